using System.Text.Json;

namespace Ingest.Contracts;

/// <summary>
/// One Segment-style message as accepted by the API: validated, its source taken from the write key,
/// its timestamp corrected for client clock skew.
/// </summary>
public sealed record AnalyticsEvent
{
    public required string SourceId { get; init; }
    public required string MessageId { get; init; }

    /// <summary>track, identify, page, screen, group or alias.</summary>
    public required string Type { get; init; }

    /// <summary>The event name of a track call.</summary>
    public string? Event { get; init; }

    /// <summary>The page or screen name.</summary>
    public string? Name { get; init; }

    public string? UserId { get; init; }
    public string? AnonymousId { get; init; }
    public string? GroupId { get; init; }
    public string? PreviousId { get; init; }

    /// <summary>The client's timestamp corrected for clock skew: receivedAt − (sentAt − timestamp).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The timestamp as the client sent it, before correction.</summary>
    public DateTimeOffset? OriginalTimestamp { get; init; }

    public DateTimeOffset? SentAt { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The client's timestamp lay more than 24 h in the future and was replaced by receivedAt.</summary>
    public bool TimestampClamped { get; init; }

    public JsonElement? Properties { get; init; }
    public JsonElement? Traits { get; init; }
    public JsonElement? Context { get; init; }
    public JsonElement? Integrations { get; init; }
}
