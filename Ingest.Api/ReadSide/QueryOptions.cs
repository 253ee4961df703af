using System.ComponentModel.DataAnnotations;

namespace Ingest.Api.ReadSide;

public sealed class QueryOptions
{
    public const string Section = "Ingest:Queries";

    /// <summary>Signs pagination cursors so that a client cannot forge or reuse one for another query. Same on every instance.</summary>
    [Required, MinLength(16)] public string CursorKey { get; set; } = "ingest-read-side-cursor-key-change-me";

    /// <summary>The Retry-After given with a 503 while PostgreSQL is down.</summary>
    [Range(1, 3600)] public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>How far back (by stored_at) a live-tail client reconnecting with Last-Event-ID is caught up, at most.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StreamReplayWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The live tail's one reader per instance reads new rows at least this often even without a notification (LISTEN
    /// connection down); a client with nothing to receive gets a keep-alive comment as often.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:10:00")]
    public TimeSpan StreamPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Live-tail connections one API instance serves at once; one more is answered 429 with Retry-After.</summary>
    [Range(1, 100_000)] public int MaxStreamConnections { get; set; } = 100;

    /// <summary>
    /// Rows a live-tail client may have waiting to be written to it. A client further behind is told so and disconnected;
    /// it reconnects with Last-Event-ID and catches up from the database.
    /// </summary>
    [Range(100, 1_000_000)] public int StreamClientBuffer { get; set; } = 10_000;
}
