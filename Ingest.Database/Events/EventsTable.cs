namespace Ingest.Database.Events;

/// <summary>
/// The events row, defined once: every column of the events table in the table's order (as the migrations build it;
/// they are history and are not edited, so this follows them), with what each reader and writer needs to know of it
/// (<see cref="EventColumn"/>). Adding a column is a line here, a migration, and the read side's row in Ingest.Api.
/// <para>
/// Derived from it, never written out again: the worker's column list (<see cref="WrittenColumnList"/>: the unnest
/// insert and the COPY into events), its array parameters and COPY rows (each column's
/// <see cref="EventColumn.ArrayOf"/> and <see cref="EventColumn.WriteAsync"/>, in this order), the arguments of
/// <c>insert_events_one_by_one</c>, the fields <c>UnsendableText</c> checks, the read side's select list
/// (<see cref="ReadSelectList"/>) and the CSV header. The statements that use them are still whole statements with a
/// name in the class that runs them, but <c>static readonly</c> rather than <c>const</c>: a const cannot be computed
/// from this list, and a const that spelled the columns out again would be one more copy to drift. What cannot be
/// derived is checked: the read side's <c>EventRow</c>, <c>EventView</c> and the CSV row are C# written out, compared
/// with this list by Ingest.Tests' When_the_events_row_is_defined; this list and the function's arguments are compared
/// with the migrated database by When_the_events_table_is_migrated.
/// </para>
/// </summary>
public static class EventsTable
{
    public static IReadOnlyList<EventColumn> Columns { get; } =
    [
        EventColumn.Generated("id", "bigint", notNull: true),
        EventColumn.Text("source_id", e => e.SourceId, notNull: true, read: false),
        EventColumn.Text("message_id", e => e.MessageId, notNull: true),
        EventColumn.Text("type", e => e.Type, notNull: true),
        EventColumn.Text("event", e => e.Event),
        EventColumn.Text("name", e => e.Name),
        EventColumn.Text("user_id", e => e.UserId),
        EventColumn.Text("anonymous_id", e => e.AnonymousId),
        EventColumn.Text("group_id", e => e.GroupId),
        EventColumn.Text("previous_id", e => e.PreviousId),
        EventColumn.Time("timestamp", e => e.Timestamp),
        EventColumn.TimeOrNull("original_timestamp", e => e.OriginalTimestamp),
        EventColumn.TimeOrNull("sent_at", e => e.SentAt),
        EventColumn.Time("received_at", e => e.ReceivedAt),
        EventColumn.Generated("stored_at", "timestamptz", notNull: true), // the partition key (migration 0105)
        EventColumn.Flag("timestamp_clamped", e => e.TimestampClamped),
        EventColumn.Json("properties", e => e.Properties),
        EventColumn.Json("traits", e => e.Traits),
        EventColumn.Json("context", e => e.Context),
        EventColumn.Json("integrations", e => e.Integrations),
        EventColumn.Generated("xact_id", "xid8", notNull: false, read: false), // the live tail's order (migration 0102)
    ];

    /// <summary>The columns the worker writes, in the table's order.</summary>
    public static IReadOnlyList<EventColumn> Written { get; } = Columns.Where(c => c.IsWritten).ToList();

    /// <summary>The columns of the read side's row, in the table's order: also the CSV export's columns.</summary>
    public static IReadOnlyList<EventColumn> Read { get; } = Columns.Where(c => c.IsRead).ToList();

    /// <summary><c>source_id, message_id, …, integrations</c>: the columns an insert by the worker names, in the order it sends them.</summary>
    public static string WrittenColumnList { get; } = string.Join(", ", Written.Select(c => c.Sql));

    /// <summary>
    /// <c>id as Id, message_id as MessageId, …, properties::text as Properties, …</c>: the read side's row, each column
    /// named for the property Dapper reads it into, JSON as its text.
    /// </summary>
    public static string ReadSelectList { get; } =
        string.Join(", ", Read.Select(c => c.IsJson ? $"{c.Sql}::text as {c.Property}" : $"{c.Sql} as {c.Property}"));
}
