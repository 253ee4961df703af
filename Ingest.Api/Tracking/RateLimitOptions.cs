using System.ComponentModel.DataAnnotations;

namespace Ingest.Api.Tracking;

/// <summary>Each source's rate of events (section Ingest:RateLimit), for <see cref="SourceRateLimiter"/>.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Ingest:RateLimit";

    /// <summary>Events a second each source may send; 0 for no limit.</summary>
    [Range(0, int.MaxValue)] public int EventsPerSecond { get; set; } = 50_000;

    /// <summary>How many seconds' worth of events a source may send at once after a quiet spell.</summary>
    [Range(1, 3600)] public int BurstSeconds { get; set; } = 2;

    /// <summary>Per-source overrides of EventsPerSecond, by source id.</summary>
    public Dictionary<string, int> Sources { get; set; } = [];
}
