using Ingest.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Worker.Persistence;

/// <summary>
/// A batch's events as one array parameter per column, in the order of the events table: what the unnest insert
/// (<see cref="UnnestInsert"/>) and <c>insert_events_one_by_one</c> (<see cref="RefusedEventQuarantine"/>) take.
/// The JSON columns go as their raw text; the statements cast them to jsonb.
/// </summary>
static class EventArrays
{
    public static void Add(NpgsqlParameterCollection parameters, IReadOnlyList<AnalyticsEvent> events)
    {
        Add(parameters, "source_ids", events, NpgsqlDbType.Text, e => e.SourceId);
        Add(parameters, "message_ids", events, NpgsqlDbType.Text, e => e.MessageId);
        Add(parameters, "types", events, NpgsqlDbType.Text, e => e.Type);
        Add(parameters, "events", events, NpgsqlDbType.Text, e => e.Event);
        Add(parameters, "names", events, NpgsqlDbType.Text, e => e.Name);
        Add(parameters, "user_ids", events, NpgsqlDbType.Text, e => e.UserId);
        Add(parameters, "anonymous_ids", events, NpgsqlDbType.Text, e => e.AnonymousId);
        Add(parameters, "group_ids", events, NpgsqlDbType.Text, e => e.GroupId);
        Add(parameters, "previous_ids", events, NpgsqlDbType.Text, e => e.PreviousId);
        Add(parameters, "timestamps", events, NpgsqlDbType.TimestampTz, e => e.Timestamp.UtcDateTime);
        Add(parameters, "original_timestamps", events, NpgsqlDbType.TimestampTz, e => e.OriginalTimestamp?.UtcDateTime);
        Add(parameters, "sent_ats", events, NpgsqlDbType.TimestampTz, e => e.SentAt?.UtcDateTime);
        Add(parameters, "received_ats", events, NpgsqlDbType.TimestampTz, e => e.ReceivedAt.UtcDateTime);
        Add(parameters, "clamped", events, NpgsqlDbType.Boolean, e => e.TimestampClamped);
        Add(parameters, "properties", events, NpgsqlDbType.Text, e => e.Properties?.GetRawText());
        Add(parameters, "traits", events, NpgsqlDbType.Text, e => e.Traits?.GetRawText());
        Add(parameters, "contexts", events, NpgsqlDbType.Text, e => e.Context?.GetRawText());
        Add(parameters, "integrations", events, NpgsqlDbType.Text, e => e.Integrations?.GetRawText());
    }

    /// <summary>
    /// An array parameter of one column. The element type is explicit: inferred, an array of nullable times whose first
    /// value is null becomes timestamp without time zone, and the first UTC value after it fails the whole batch.
    /// </summary>
    static void Add<T>(NpgsqlParameterCollection parameters, string name, IReadOnlyList<AnalyticsEvent> events, NpgsqlDbType elementType, Func<AnalyticsEvent, T> value)
    {
        var values = new T[events.Count];
        for (var i = 0; i < values.Length; i++) values[i] = value(events[i]);
        parameters.Add(new NpgsqlParameter<T[]>(name, NpgsqlDbType.Array | elementType) { TypedValue = values });
    }
}
