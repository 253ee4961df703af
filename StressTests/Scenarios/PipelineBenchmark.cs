using StressTests.Pipeline;

namespace StressTests.Scenarios;

/// <summary>
/// A benchmark fixture's pipeline: the one bench.sh started (INGEST_API_URL), else one started here, by the first test
/// that needs it (a ceiling does not), shared by the fixture's tests and stopped after them.
/// </summary>
public abstract class PipelineBenchmark
{
    Task<PipelineUnderTest>? pipeline;

    protected Task<PipelineUnderTest> Pipeline() => pipeline ??= PipelineUnderTest.ExternalOrStartAsync(CancellationToken.None);

    [OneTimeTearDown]
    public async Task StopPipeline()
    {
        if (pipeline is { IsCompletedSuccessfully: true }) await (await pipeline).DisposeAsync();
    }
}
