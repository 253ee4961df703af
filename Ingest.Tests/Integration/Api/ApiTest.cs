namespace Ingest.Tests.Integration.Api;

/// <summary>
/// A fixture whose tests share one API in process (<see cref="ApiHost"/>), started once for a new source with a write
/// key (<see cref="ApiHost.StartForNewSourceAsync"/>) and disposed after the fixture's own teardown.
/// </summary>
public abstract class ApiTest
{
    protected ApiHost Api { get; private set; } = null!;
    protected HttpClient Client { get; private set; } = null!;
    protected string SourceId { get; private set; } = null!;
    protected string WriteKey { get; private set; } = null!;

    /// <summary>This fixture's settings over ApiHost's, named as in appsettings.</summary>
    protected virtual Dictionary<string, string?>? Settings => null;

    [OneTimeSetUp]
    public async Task StartApi() => (Api, Client, SourceId, WriteKey) = await ApiHost.StartForNewSourceAsync(Settings);

    [OneTimeTearDown]
    public void StopApi() => Api.Dispose();
}
