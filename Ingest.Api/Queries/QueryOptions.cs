using System.ComponentModel.DataAnnotations;

namespace Ingest.Api.Queries;

public sealed class QueryOptions
{
    public const string Section = "Ingest:Queries";

    /// <summary>Signs pagination cursors so that a client cannot forge or reuse one for another query. Same on every instance.</summary>
    [Required, MinLength(16)] public string CursorKey { get; set; } = "ingest-read-side-cursor-key-change-me";

    /// <summary>The Retry-After given with a 503 while PostgreSQL is down.</summary>
    [Range(1, 3600)] public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>How far back a live-tail client reconnecting with Last-Event-ID is caught up, at most.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StreamReplayWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Identity ids are taken at insert and become visible at commit, so a lower id can appear after a higher one was sent.
    /// Each read of the live tail looks again at rows stored this long before the newest one it sent.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan StreamLateCommitWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A live-tail client reads again at least this often even without a notification (LISTEN connection down).</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:10:00")]
    public TimeSpan StreamPollInterval { get; set; } = TimeSpan.FromSeconds(5);
}
