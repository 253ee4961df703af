using System.ComponentModel.DataAnnotations;

namespace Ingest.Api.Publishing;

public sealed class PublishOptions
{
    public const string Section = "Ingest:Publish";

    /// <summary>How long events of concurrent requests are gathered into one broker message.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMilliseconds(2);

    [Range(1, 10_000)] public int MaxEventsPerMessage { get; set; } = 500;

    /// <summary>The bytes of events gathered into one broker message, at most (a single larger request still goes alone).</summary>
    [Range(1024, 64 * 1024 * 1024)] public int MaxBytesPerMessage { get; set; } = 1024 * 1024;

    /// <summary>Broker messages sent and not yet confirmed, at most.</summary>
    [Range(1, 1024)] public int MaxInFlightMessages { get; set; } = 64;

    /// <summary>Requests waiting to be gathered, at most; past it the API answers 503 at once instead of queueing in memory.</summary>
    [Range(1, 1_000_000)] public int MaxPendingRequests { get; set; } = 20_000;

    /// <summary>The bytes of accepted events waiting for the broker, at most; past it the API answers 503 at once.</summary>
    [Range(1024 * 1024, 16L * 1024 * 1024 * 1024)] public long MaxPendingBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long a request waits for the broker's confirm before it answers 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:01:00")]
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The Retry-After given with a 503.</summary>
    [Range(1, 3600)] public int RetryAfterSeconds { get; set; } = 5;
}
