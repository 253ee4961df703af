using System.Text.Json;
using Ingest.Contracts;

namespace Ingest.Api.Tracking;

/// <summary>
/// Turns one Segment message (the JSON of a track, identify, page, screen, group or alias call) into the event the
/// broker carries: fields checked, the messageId generated when absent, the timestamp corrected for clock skew.
/// Pure: the source, the time it was received and the batch's shared fields come from the caller.
/// </summary>
public static class SegmentMessage
{
    public const int MaxIdLength = 255;

    /// <summary>The longest <c>event</c> or <c>name</c>: the event name is indexed, and a PostgreSQL index entry holds at most ~2.7 KB.</summary>
    public const int MaxNameLength = 512;
    public static readonly string[] Types = ["track", "identify", "page", "screen", "group", "alias"];
    static readonly string[] JsonObjectFields = ["properties", "traits", "context", "integrations"];

    /// <param name="Ids">Derives the messageId of a message that has none; by default from an empty body.</param>
    /// <param name="BatchContext">The batch's context, already <see cref="ClientContext.Prepare"/>d when there is a <paramref name="Client"/>.</param>
    /// <param name="Client">The client's ip and userAgent to add, and the source's IP policy; none adds nothing.</param>
    public sealed record Envelope(string SourceId, DateTimeOffset ReceivedAt, DateTimeOffset? BatchSentAt = null,
        JsonElement? BatchContext = null, JsonElement? BatchIntegrations = null, MessageIds? Ids = null, ClientContext? Client = null)
    {
        /// <summary>The messageId of the message at <paramref name="position"/> in the body, for one that came without.</summary>
        public string DerivedMessageId(int position) => (Ids ?? MessageIds.None).For(SourceId, position);
    }

    /// <param name="type">The type the endpoint implies, or null when the message must name it (batch items).</param>
    /// <param name="position">The message's place in the request body, from which a missing messageId is derived.</param>
    public static (AnalyticsEvent? Event, List<FieldError> Errors) Read(JsonElement message, string? type, Envelope envelope, int position = 0)
    {
        var errors = new List<FieldError>();
        if (message.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("", "must be a JSON object"));
            return (null, errors);
        }
        // First: a string that is not Unicode text cannot even be read as a field.
        if (StorableJson.FindProblem(message) is { } unstorable)
        {
            errors.Add(unstorable);
            return (null, errors);
        }

        type ??= String(message, "type", errors);
        if (type is null)
            errors.Add(new("type", $"is required: one of {string.Join(", ", Types)}"));
        else if (!Types.Contains(type))
            errors.Add(new("type", $"'{type}' is not one of {string.Join(", ", Types)}"));

        var messageId = Id(message, "messageId", errors) ?? envelope.DerivedMessageId(position);
        var userId = Id(message, "userId", errors);
        var anonymousId = Id(message, "anonymousId", errors);
        if (userId is null && anonymousId is null && !errors.Any(e => e.Field is "userId" or "anonymousId"))
            errors.Add(new("userId", "userId or anonymousId is required"));

        var eventName = Name(message, "event", errors);
        var name = Name(message, "name", errors);
        var groupId = Id(message, "groupId", errors);
        var previousId = Id(message, "previousId", errors);
        switch (type)
        {
            case "track" when string.IsNullOrWhiteSpace(eventName):
                errors.Add(new("event", "is required for a track call"));
                break;
            case "group" when groupId is null:
                errors.Add(new("groupId", "is required for a group call"));
                break;
            case "alias" when previousId is null:
                errors.Add(new("previousId", "is required for an alias call"));
                break;
        }

        var timestamp = Time(message, "timestamp", errors) ?? Time(message, "originalTimestamp", errors);
        var sentAt = Time(message, "sentAt", errors) ?? envelope.BatchSentAt;
        var objects = new JsonElement?[JsonObjectFields.Length];
        for (var i = 0; i < JsonObjectFields.Length; i++)
            objects[i] = Object(message, JsonObjectFields[i], errors);

        if (errors.Count > 0 || type is null)
            return (null, errors);

        if (ClockSkew.Correct(timestamp, sentAt, envelope.ReceivedAt) is not { } correction)
        {
            errors.Add(new("timestamp", "is so far from sentAt that the corrected time falls outside the calendar (years 1 to 9999)"));
            return (null, errors);
        }
        var (corrected, clamped) = correction;
        return (new AnalyticsEvent
        {
            SourceId = envelope.SourceId,
            MessageId = messageId,
            Type = type,
            Event = eventName,
            Name = name,
            UserId = userId,
            AnonymousId = anonymousId,
            GroupId = groupId,
            PreviousId = previousId,
            Timestamp = corrected,
            OriginalTimestamp = timestamp,
            SentAt = sentAt,
            ReceivedAt = envelope.ReceivedAt,
            TimestampClamped = clamped,
            Properties = objects[0],
            Traits = objects[1],
            Context = envelope.Client is { } client ? client.Context(objects[2], envelope.BatchContext) : Merge(objects[2], envelope.BatchContext),
            Integrations = Merge(objects[3], envelope.BatchIntegrations),
        }, errors);
    }

    static string? String(JsonElement message, string field, List<FieldError> errors)
    {
        if (!message.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        errors.Add(new(field, "must be a string"));
        return null;
    }

    static string? Name(JsonElement message, string field, List<FieldError> errors)
    {
        var name = String(message, field, errors);
        if (name is { Length: > MaxNameLength })
        {
            errors.Add(new(field, $"is longer than {MaxNameLength} characters"));
            return null;
        }
        return name;
    }

    /// <summary>
    /// A batch's <c>context</c> or <c>integrations</c> applies to each of its messages: a message's own object keeps
    /// its keys and takes the batch's other keys (a shallow merge, as Segment's batch endpoint does).
    /// </summary>
    public static JsonElement? Merge(JsonElement? own, JsonElement? batch)
    {
        if (own is not { } mine) return batch;
        if (batch is not { } shared) return own;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in shared.EnumerateObject())
                if (!mine.TryGetProperty(property.Name, out _)) property.WriteTo(writer);
            foreach (var property in mine.EnumerateObject()) property.WriteTo(writer);
            writer.WriteEndObject();
        }
        var reader = new Utf8JsonReader(buffer.WrittenSpan);
        return JsonElement.ParseValue(ref reader); // a copy of its own: no pooled document left undisposed
    }

    /// <summary>An identifier: a non-empty string (or a number, which Segment's libraries accept) of at most 255 characters.</summary>
    static string? Id(JsonElement message, string field, List<FieldError> errors)
    {
        if (!message.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        var id = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
        if (id is null) errors.Add(new(field, "must be a string"));
        else if (id.Length == 0) errors.Add(new(field, "must not be empty"));
        else if (id.Length > MaxIdLength) errors.Add(new(field, $"is longer than {MaxIdLength} characters"));
        else return id;
        return null;
    }

    /// <summary>An ISO-8601 date-time field of a message (or of a batch: its sentAt).</summary>
    public static DateTimeOffset? Time(JsonElement message, string field, List<FieldError> errors)
    {
        if (!message.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var time)) return time;
        errors.Add(new(field, "must be an ISO-8601 date-time, e.g. 2026-11-22T10:00:00.000Z"));
        return null;
    }

    static JsonElement? Object(JsonElement message, string field, List<FieldError> errors)
    {
        if (!message.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Object) return value;
        errors.Add(new(field, "must be a JSON object"));
        return null;
    }
}
