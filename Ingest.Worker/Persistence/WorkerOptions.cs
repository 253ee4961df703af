using System.ComponentModel.DataAnnotations;
using Ingest.Worker.Consuming;

namespace Ingest.Worker.Persistence;

/// <summary>
/// How the worker takes batches off the queue, retries the database and paces its writes (section Ingest:Worker).
/// Defaults from the worker's benchmark (measured when it sat in Ingest.Tests; now StressTests' WorkerBenchmarks, deploy/bench.sh worker: 30,000 events in 300 messages of 100,
/// six runs on the shared 2-core machine under load 6–15): ConcurrencyLimit 1 was slowest (median 7,300 events/s);
/// MessageLimit 10, 50, 100 and 200 with ConcurrencyLimit 2 or 4 were within each other's noise (medians 9,200–12,500,
/// runs spreading 6,000–20,000); MessageLimit 50 had the best median and bounds a transaction's size.
/// </summary>
public sealed class WorkerOptions : IValidatableObject
{
    public const string Section = "Ingest:Worker";

    /// <summary>Broker messages per batch (each carries the events of one API group commit).</summary>
    [Range(1, 5000)] public int MessageLimit { get; set; } = 50;

    /// <summary>
    /// How long a batch waits to fill after its first message. 200 ms rather than 50: PostgreSQL's cost per row falls
    /// with the statement's size (measured 2026-12-06: 85–98 µs a row at 300 rows, 46–61 at 2,000, 32–34 at 17,000), and
    /// side by side (deploy/ab.sh, 6 rounds each) the whole pipeline cost 3.5% less for single events and 4% less for
    /// batches of 100. The price: at low load an event is stored up to 200 ms after its message arrives, not 50.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")] public TimeSpan TimeLimit { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Batches written at once by this worker.</summary>
    [Range(1, 64)] public int ConcurrencyLimit { get; set; } = 2;

    /// <summary>Unacknowledged messages RabbitMQ hands this worker: the bound on what it holds in memory, also while the database is down.</summary>
    [Range(1, 65535)] public int PrefetchCount { get; set; } = 200;

    /// <summary>
    /// Batches of at least this many events are written by binary COPY after their keys are claimed, smaller ones by a single
    /// unnest statement. Measured on the reference machine (the writer benchmark, now in StressTests' WorkerBenchmarks): unnest was about
    /// three times faster at 100 events a batch, COPY about twice as fast from 1,000.
    /// </summary>
    [Range(1, int.MaxValue)] public int CopyFromEvents { get; set; } = 500;

    /// <summary>First delay before retrying a transient database failure; it doubles (with jitter) up to <see cref="RetryMaxDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")] public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between two attempts while the database stays down. Transient failures are retried until they succeed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")] public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>At shutdown, how long a batch in hand may take to commit before it is abandoned (left unacknowledged, so RabbitMQ redelivers it).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")] public TimeSpan ConsumerStopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A batch still failing after this long is released: its broker messages go back to the queue and the worker stops
    /// taking deliveries until the database answers (<see cref="ConsumerPause"/>). With <see cref="ConsumerStopTimeout"/>
    /// it must stay under RabbitMQ's consumer_timeout (30 min by default), which otherwise closes the channel under the batch.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")] public TimeSpan ReleaseAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>While released, how often the worker asks the database whether it answers before taking deliveries again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")] public TimeSpan ResumeProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Cap on events written per second; none when unset.</summary>
    [Range(1, 10_000_000)] public double? MaxEventsPerSecond { get; set; }

    /// <summary>Local-time windows such as "08:00-18:00" (a window may wrap midnight: "22:00-02:00") during which <see cref="PeakMaxEventsPerSecond"/> applies.</summary>
    public List<string> PeakHours { get; set; } = [];

    /// <summary>The lower cap during <see cref="PeakHours"/>; the backlog waits in RabbitMQ until off-peak.</summary>
    [Range(1, 10_000_000)] public double? PeakMaxEventsPerSecond { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var window in PeakHours)
            if (!PeakWindow.TryParse(window, out _))
                yield return new ValidationResult($"{Section}:PeakHours: '{window}' is not a local time range like 08:00-18:00.", [nameof(PeakHours)]);
        if (PeakHours.Count > 0 && PeakMaxEventsPerSecond is null)
            yield return new ValidationResult($"{Section}:PeakMaxEventsPerSecond must be set when PeakHours are.", [nameof(PeakMaxEventsPerSecond)]);
        if (PrefetchCount < MessageLimit * ConcurrencyLimit)
            yield return new ValidationResult(
                $"{Section}:PrefetchCount ({PrefetchCount}) must be at least MessageLimit × ConcurrencyLimit ({MessageLimit * ConcurrencyLimit}), or batches never fill.",
                [nameof(PrefetchCount)]);
        if (ReleaseAfter <= ConsumerStopTimeout)
            yield return new ValidationResult($"{Section}:ReleaseAfter must be longer than ConsumerStopTimeout.", [nameof(ReleaseAfter)]);
        if (RetryMaxDelay < RetryBaseDelay)
            yield return new ValidationResult($"{Section}:RetryMaxDelay must not be shorter than RetryBaseDelay.", [nameof(RetryMaxDelay)]);
    }
}
