using System.Globalization;

namespace StressTests.Scenarios;

/// <summary>The benchmark's knobs, from the environment, with defaults sized for this 2-core machine.</summary>
public static class Settings
{
    /// <summary>STRESS_SECONDS: how long each steady-load scenario runs, warm-up included (default 15).</summary>
    public static TimeSpan Duration { get; } = TimeSpan.FromSeconds(Number("STRESS_SECONDS", 15));

    /// <summary>STRESS_WARMUP_SECONDS: the first stretch of each steady-load run left out of the figures (default 3).</summary>
    public static TimeSpan WarmUp { get; } = TimeSpan.FromSeconds(Number("STRESS_WARMUP_SECONDS", 3));

    /// <summary>
    /// STRESS_COST_WARMUP_SECONDS: the warm-up of the single-event CPU-cost scenario (default 20). A host's hot paths
    /// run unoptimised tier-0 JIT code for their first seconds under a new load, so a 3 s warm-up measured its API and
    /// worker at about 3× their steady cost (2026-11-22: 214 and 155 µs per event against 74 and 27 after 20 s).
    /// </summary>
    public static TimeSpan CostWarmUp { get; } = TimeSpan.FromSeconds(Number("STRESS_COST_WARMUP_SECONDS", 20));

    /// <summary>STRESS_RATE: single events a second in the open-model scenario (default 1000).</summary>
    public static double OpenRate { get; } = Number("STRESS_RATE", 1000);

    /// <summary>STRESS_OPEN_P99_MS: the open-model scenario's p99 bound (default 100 ms).</summary>
    public static TimeSpan OpenP99 { get; } = TimeSpan.FromMilliseconds(Number("STRESS_OPEN_P99_MS", 100));

    /// <summary>STRESS_LAG_EVENTS_PER_SECOND: the steady load of the lag scenario, sent as batches of 100 (default 5000).</summary>
    public static double LagEventsPerSecond { get; } = Number("STRESS_LAG_EVENTS_PER_SECOND", 5000);

    /// <summary>STRESS_OUTAGE_RATE: single events a second during the database-outage scenario (default 500).</summary>
    public static double OutageRate { get; } = Number("STRESS_OUTAGE_RATE", 500);

    /// <summary>STRESS_READ_EVENTS: events generated for the read side's benchmark (default 1,000,000).</summary>
    public static int ReadSideEvents { get; } = (int)Number("STRESS_READ_EVENTS", 1_000_000);

    /// <summary>STRESS_PRIVACY_EVENTS: events of the source a privacy deletion of 1,000 subjects runs in (default 1,000,000).</summary>
    public static int PrivacyEvents { get; } = (int)Number("STRESS_PRIVACY_EVENTS", 1_000_000);

    /// <summary>STRESS_SUSTAINED_SECONDS: how long the batch load runs when storage must keep up with it (default 60, issue #25).</summary>
    public static TimeSpan SustainedDuration { get; } = TimeSpan.FromSeconds(Number("STRESS_SUSTAINED_SECONDS", 60));

    /// <summary>
    /// STRESS_BACKLOG_MB: the queue's bound (Ingest:Broker:MaxQueueBytes) in the bounded-backlog scenario (default 64,
    /// issue #25): a few seconds of what the worker stores here, which is what is left to store when the load ends.
    /// </summary>
    public static long BacklogBytes { get; } = (long)Number("STRESS_BACKLOG_MB", 64) << 20;

    /// <summary>STRESS_FILLED_EVENTS: events generated into the table before the full-table batch scenario (default 10,000,000, issue #25).</summary>
    public static long FilledEvents { get; } = (long)Number("STRESS_FILLED_EVENTS", 10_000_000);

    static double Number(string name, double fallback) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;
}
