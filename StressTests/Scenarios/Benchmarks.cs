using StressTests.Pipeline;
using StressTests.Runner;

namespace StressTests.Scenarios;

/// <summary>
/// The benchmark (deploy/bench.sh): the ceilings of this machine and the pipeline's scenarios, measured in one run,
/// each pipeline figure also reported as a fraction of its ceiling, and each scenario's CPU time per event by process
/// (API, worker, RabbitMQ, PostgreSQL, load generator) against the bare Kestrel ceiling's CPU per request. Against the
/// pipeline bench.sh started (INGEST_API_URL), else one started here.
/// </summary>
[TestFixture, Category("Benchmark"), NonParallelizable]
public sealed class Benchmarks : PipelineBenchmark
{
    [Test, Order(0), CancelAfter(120_000)]
    public async Task Ceiling_bare_kestrel_answers_every_call(CancellationToken ct)
    {
        var result = await MeasuredCeilings.KestrelAsync(ct);
        Runner.Threshold.Assert(result, Runner.Threshold.FailRate(0), Runner.Threshold.MinRate(100));
    }

    [Test, Order(1), CancelAfter(120_000)]
    public async Task Ceiling_postgres_copy_stores_every_row(CancellationToken ct)
    {
        var result = await MeasuredCeilings.CopyAsync(ct);
        Runner.Threshold.Assert(result, Runner.Threshold.FailRate(0), Runner.Threshold.MinItemsRate(1000));
    }

    [Test, Order(2), CancelAfter(180_000)]
    public async Task Seeds_stress_test_answers_200_within_the_seeds_budget_and_stores_every_event(CancellationToken ct) =>
        await PipelineScenarios.SeedsStressTestAsync(await Pipeline(), "seeds-stress-test", clients: 16, requests: 1000, eventsPerRequest: 10,
            budget: TimeSpan.FromSeconds(3), warmUp: Settings.WarmUp, compareWithCeiling: true, ct);

    [Test, Order(3), CancelAfter(180_000)]
    public async Task Single_events_at_64_connections_report_their_cpu_per_event_against_the_ceiling(CancellationToken ct) =>
        await PipelineScenarios.SingleEventsCostAsync(await Pipeline(), clients: 64, ct);

    [Test, Order(4), CancelAfter(600_000)]
    public async Task Single_events_closed_model_sustain_a_rate_with_p99_under_50_ms(CancellationToken ct) =>
        await PipelineScenarios.HighestClosedRateAsync(await Pipeline(), [4, 8, 16, 32, 64, 128], TimeSpan.FromMilliseconds(50), ct);

    [Test, Order(5), CancelAfter(300_000)]
    public async Task Single_events_open_model_at_a_steady_rate_keep_p99_under_the_bound(CancellationToken ct) =>
        await PipelineScenarios.SteadyOpenRateAsync(await Pipeline(), Settings.OpenRate, Settings.OpenP99, ct);

    [Test, Order(6), CancelAfter(300_000)]
    public async Task Batches_of_100_are_accepted_and_stored_end_to_end(CancellationToken ct) =>
        await PipelineScenarios.BatchesAsync(await Pipeline(), "batches-of-100", clients: 8, Settings.Duration, ct);

    [Test, Order(7), CancelAfter(300_000)]
    public async Task Acceptance_to_storage_lag_p99_stays_under_1_s_at_a_steady_load(CancellationToken ct) =>
        await PipelineScenarios.AcceptanceToStorageLagAsync(await Pipeline(), Settings.LagEventsPerSecond, TimeSpan.FromSeconds(1), ct);

    [Test, Order(8), CancelAfter(600_000)]
    public async Task Database_outage_mid_load_fails_no_request_and_loses_no_event(CancellationToken ct)
    {
        // A pipeline of its own on a PostgreSQL cluster of its own, so stopping it cannot disturb anything else.
        await using var own = await PipelineUnderTest.StartAsync(privatePostgres: true, ct);
        var duration = Settings.Duration + TimeSpan.FromSeconds(15); // the database is back well before the load ends
        await PipelineScenarios.DatabaseOutageAsync(own, "database-outage", Settings.OutageRate, duration,
            stopAt: TimeSpan.FromSeconds(5), downFor: TimeSpan.FromSeconds(10), p99Bound: TimeSpan.FromMilliseconds(500), ct);
    }

    /// <summary>Issue #25: at the API's highest accepted rate for a minute, is storage keeping up (stored ÷ accepted, goal ≥0.9×)?</summary>
    [Test, Order(9), CancelAfter(600_000)]
    public async Task Batches_for_a_minute_are_stored_as_fast_as_accepted(CancellationToken ct) =>
        await PipelineScenarios.BatchesAsync(await Pipeline(), $"batches-of-100-for-{(int)Settings.SustainedDuration.TotalSeconds}-s", clients: 8,
            Settings.SustainedDuration, ct);

    /// <summary>
    /// Issue #25, the push-back its storage goal allows: the same minute of batches on a pipeline of its own whose queue is
    /// bounded (STRESS_BACKLOG_MB); past the bound the API answers 503, so acceptance is held to the rate storage keeps.
    /// </summary>
    [Test, Order(10), CancelAfter(600_000)]
    public async Task Batches_for_a_minute_past_a_bounded_backlog_are_pushed_back_and_stored_as_fast_as_accepted(CancellationToken ct) =>
        await PipelineScenarios.BatchesPastABoundedBacklogAsync(Settings.BacklogBytes, Settings.SustainedDuration, ct);

    /// <summary>
    /// Issue #25: PostgreSQL's CPU per event once the table holds 10 million events (STRESS_FILLED_EVENTS) against the
    /// empty table before and after. Last, since it empties the table.
    /// </summary>
    [Test, Order(11), CancelAfter(3_600_000)]
    public async Task Batches_on_a_table_of_10_million_events_cost_postgresql_about_what_they_did_before(CancellationToken ct) =>
        await PipelineScenarios.BatchesOnAFullTableAsync(await Pipeline(), Settings.FilledEvents, ct);
}
