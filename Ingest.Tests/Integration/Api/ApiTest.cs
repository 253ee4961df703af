namespace Ingest.Tests.Integration.Api;

/// <summary>
/// A fixture whose tests share one API in process (<see cref="ApiHost"/>), started once for a new source with a write,
/// a read and an admin key (all made before the API loads its keys), and disposed after the fixture's own teardown.
/// </summary>
public abstract class ApiTest
{
    protected ApiHost Api { get; private set; } = null!;
    protected HttpClient Client { get; private set; } = null!;
    protected string SourceId { get; private set; } = null!;
    protected string WriteKey { get; private set; } = null!;
    protected string ReadKey { get; private set; } = null!;
    protected string AdminKey { get; private set; } = null!;

    /// <summary>This fixture's settings over ApiHost's, named as in appsettings.</summary>
    protected virtual Dictionary<string, string?>? Settings => null;

    [OneTimeSetUp]
    public async Task StartApi()
    {
        (SourceId, WriteKey, ReadKey) = await TestSources.CreateAsync();
        AdminKey = await TestSources.CreateAdminKeyAsync(SourceId);
        Api = new ApiHost(Settings);
        Client = await Api.StartAsync(WriteKey);
    }

    [OneTimeTearDown]
    public void StopApi() => Api.Dispose();
}
