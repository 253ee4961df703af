using System.Text.Json;
using Ingest.Database.Events;

namespace Ingest.Api.Events;

/// <summary>
/// An events row as Dapper reads it (jsonb as text), from <see cref="EventsTable.ReadSelectList"/>: one property per
/// column of <see cref="EventsTable.Read"/>, in its order (checked by When_the_events_row_is_defined).
/// </summary>
public sealed class EventRow
{
    public long Id { get; init; }
    public required string MessageId { get; init; }
    public required string Type { get; init; }
    public string? Event { get; init; }
    public string? Name { get; init; }
    public string? UserId { get; init; }
    public string? AnonymousId { get; init; }
    public string? GroupId { get; init; }
    public string? PreviousId { get; init; }
    public DateTime Timestamp { get; init; }
    public DateTime? OriginalTimestamp { get; init; }
    public DateTime? SentAt { get; init; }
    public DateTime ReceivedAt { get; init; }
    public DateTime StoredAt { get; init; }
    public bool TimestampClamped { get; init; }
    public string? Properties { get; init; }
    public string? Traits { get; init; }
    public string? Context { get; init; }
    public string? Integrations { get; init; }

    public EventView ToView() => new(Id, MessageId, Type, Event, Name, UserId, AnonymousId, GroupId, PreviousId, Timestamp, OriginalTimestamp, SentAt,
        ReceivedAt, StoredAt, TimestampClamped, Json(Properties), Json(Traits), Json(Context), Json(Integrations));

    static JsonElement? Json(string? text) => text is null ? null : JsonElement.Parse(text);
}
