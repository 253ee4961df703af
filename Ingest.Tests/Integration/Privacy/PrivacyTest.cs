namespace Ingest.Tests.Integration.Privacy;

/// <summary>A fixture whose every test gets a <see cref="PrivacyStack"/> of its own: started before the test, stopped after it.</summary>
public abstract class PrivacyTest
{
    protected PrivacyStack Stack { get; private set; } = null!;

    /// <summary>The API publishes to the privacy worker's queue, as in production (<see cref="PrivacyStack.StartAsync"/>).</summary>
    protected virtual bool OneQueue => false;

    [SetUp]
    public async Task StartStack() => Stack = await PrivacyStack.StartAsync(oneQueue: OneQueue);

    [TearDown]
    public async Task StopStack() => await Stack.DisposeAsync();
}
