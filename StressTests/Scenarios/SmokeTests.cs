using StressTests.Pipeline;

namespace StressTests.Scenarios;

/// <summary>
/// Short versions of the seeds' stress test and the database outage, with loose bounds, in the normal test command
/// so they cannot rot. They start Ingest.Api and Ingest.Worker themselves (PipelineUnderTest).
/// </summary>
[TestFixture, Category("Smoke"), NonParallelizable]
public sealed class SmokeTests
{
    [Test, CancelAfter(180_000)]
    public async Task Seeds_stress_test_in_small_answers_200_to_every_request_and_stores_every_event(CancellationToken ct)
    {
        await using var pipeline = await PipelineUnderTest.ExternalOrStartAsync(ct);
        await PipelineScenarios.SeedsStressTestAsync(pipeline, "smoke-seeds", clients: 16, requests: 100, eventsPerRequest: 10,
            budget: TimeSpan.FromSeconds(10), warmUp: TimeSpan.Zero, compareWithCeiling: false, ct);
    }

    [Test, CancelAfter(300_000)]
    public async Task Database_outage_in_small_fails_no_request_and_loses_no_event(CancellationToken ct)
    {
        await using var pipeline = await PipelineUnderTest.StartAsync(privatePostgres: true, ct);
        await PipelineScenarios.DatabaseOutageAsync(pipeline, "smoke-outage", rate: 50, duration: TimeSpan.FromSeconds(12),
            stopAt: TimeSpan.FromSeconds(2), downFor: TimeSpan.FromSeconds(3), p99Bound: TimeSpan.FromSeconds(2), ct);
    }
}
