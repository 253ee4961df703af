using System.ComponentModel.DataAnnotations;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>
/// The Seq sink (section <c>Ingest:Seq</c>; environment <c>Ingest__Seq__ServerUrl</c> and so on). No ServerUrl, no
/// sink. Defaults are the official Serilog.Sinks.Seq's; the timings are settable so tests run in milliseconds.
/// </summary>
public sealed class SeqSinkOptions
{
    public const string Section = "Ingest:Seq";

    /// <summary>e.g. http://seq:5341. Events go to {ServerUrl}/api/events/raw.</summary>
    public string? ServerUrl { get; set; }

    /// <summary>Sent as X-Seq-ApiKey when set.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Durable mode when set: events are appended to files in this folder and shipped from there. One process per folder ("{service}" is replaced).</summary>
    public string? BufferPath { get; set; }

    [Range(1, 100_000)] public int BatchPostingLimit { get; set; } = 1000;

    /// <summary>How long events wait to be batched, and the first retry interval after a failure.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Events waiting in memory (non-durable mode). Past it, events are counted and reported, not queued.</summary>
    [Range(1, int.MaxValue)] public int QueueLimit { get; set; } = 100_000;

    /// <summary>Larger events are replaced by a placeholder carrying a sample.</summary>
    [Range(1024, long.MaxValue)] public long EventBodyLimitBytes { get; set; } = 256 * 1024;

    /// <summary>One request carries at most this much (Seq's default raw payload limit is 10 MB).</summary>
    [Range(1024, long.MaxValue)] public long PayloadLimitBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Backoff after the n-th failure (n ≥ 2): 2^(n-1) × max(Period, MinimumBackoff), at most MaximumBackoff.</summary>
    public TimeSpan MinimumBackoff { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaximumBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Durable mode: the buffer's bound. Past it the oldest files are deleted, their events counted and reported.</summary>
    [Range(4096, long.MaxValue)] public long BufferSizeLimitBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Durable mode: a buffer file is closed and a new one started past this size.</summary>
    [Range(1024, long.MaxValue)] public long BufferFileSizeLimitBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Durable mode: payloads Seq refused (400/413) are kept in the buffer folder up to this many bytes.</summary>
    public long RetainedInvalidPayloadsLimitBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Events lost (queue overflow, buffer bound, refused by Seq) are reported at most this often.</summary>
    public TimeSpan LossReportInterval { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On dispose (host shutdown), how long to keep shipping what is left.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
