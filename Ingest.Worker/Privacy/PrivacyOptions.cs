using System.ComponentModel.DataAnnotations;

namespace Ingest.Worker.Privacy;

/// <summary>How the worker carries out privacy requests (section Ingest:Privacy).</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Ingest:Privacy";

    /// <summary>How often an idle worker looks for a pending request (a request it is running goes on without waiting).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")] public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Rows deleted per statement: each is a short transaction, so ingestion and queries go on meanwhile.</summary>
    [Range(1, 100_000)] public int BatchSize { get; set; } = 1000;

    /// <summary>How long a worker's claim on a request holds without news from it; a worker that died is replaced after this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")] public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Claims of one request before it is marked failed with the last reason (each failed claim waits ClaimTimeout).</summary>
    [Range(1, 1000)] public int MaxAttempts { get; set; } = 20;
}
