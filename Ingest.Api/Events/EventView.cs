using System.Text.Json;

namespace Ingest.Api.Events;

/// <summary>
/// A stored event as the read side shows it, in the names of Segment's spec: <see cref="EventRow"/> with its JSON
/// parsed, its fields in the same order (checked by When_the_events_row_is_defined).
/// </summary>
public sealed record EventView(long Id, string MessageId, string Type, string? Event, string? Name, string? UserId, string? AnonymousId,
    string? GroupId, string? PreviousId, DateTime Timestamp, DateTime? OriginalTimestamp, DateTime? SentAt, DateTime ReceivedAt,
    DateTime StoredAt, bool TimestampClamped, JsonElement? Properties, JsonElement? Traits, JsonElement? Context, JsonElement? Integrations);
