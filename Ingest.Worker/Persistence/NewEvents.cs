using Ingest.Contracts;
using Ingest.Database.Events;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// The statements that store a batch's new events, set-based, what the events_claim_key row trigger did per row until
/// migration 0108: <see cref="InsertFrom"/> for <see cref="UnnestInsert"/>'s arrays, <see cref="ClaimKeysOf"/> for
/// <see cref="CopyInsert"/>, which then copies the claimed events straight into events.
/// <list type="number">
/// <item>The batch's rows, one per key (<see cref="FirstOfEachKey"/>), materialized once.</item>
/// <item>Their keys claimed in event_keys, in key order (two batches sharing keys take them in the same order, so they
/// wait rather than deadlock), each with the time it is stored; a key already taken skips its event, and a key another
/// transaction holds waits for its outcome, as with any unique index.</item>
/// <item>The claimed events, in batch order (their ids ascend as before), each with its key's stored_at, less those a
/// privacy request filters (<c>is_filtered</c>, read only for a source that has filters).</item>
/// </list>
/// The filter is read with the statement's snapshot: exact only when the transaction already has its id when the
/// statement starts (<see cref="AssignTransactionId"/>), so that an erasure committing after the snapshot finds it
/// running and waits for it (PrivacyRunner.EraseAsync).
/// </summary>
static class NewEvents
{
    /// <summary>Gives the transaction its id; sent before <see cref="InsertFrom"/> or <see cref="ClaimKeysOf"/> unless the transaction already wrote.</summary>
    internal const string AssignTransactionId = "select pg_current_xact_id()";

    /// <summary>The batch's keys claimed in the index's order (bytes, as the columns compare since 0111), each with the time it is stored (from a CTE named batch).</summary>
    const string Claimed = """
        claimed as (
            insert into event_keys (source_id, message_id, stored_at)
            select source_id, message_id, clock_timestamp() from batch
            order by source_id collate "C", message_id collate "C"
            on conflict (source_id, message_id) do nothing
            returning source_id, message_id, stored_at
        )
        """;

    /// <summary>The claimed events that no privacy request filters, in batch order.</summary>
    const string ClaimedInOrder = """
        from batch join claimed using (source_id, message_id)
        where not (exists (select 1 from privacy_filters f where f.source_id = batch.source_id)
                   and is_filtered(source_id, user_id, anonymous_id, received_at))
        order by ordinal
        """;

    /// <param name="rows">
    /// A from item with the written columns (<see cref="EventsTable.WrittenColumnList"/>) and <c>ordinal</c>, the event's
    /// place in the batch; at most one row per key (<see cref="FirstOfEachKey"/>): two would both be stored.
    /// </param>
    internal static string InsertFrom(string rows) => $"""
        with batch as materialized (
            select {EventsTable.WrittenColumnList}, ordinal
            from {rows}
        ),
        {Claimed}
        insert into events ({EventsTable.WrittenColumnList}, stored_at)
        select {EventsTable.WrittenColumnList}, stored_at
        {ClaimedInOrder}
        """;

    /// <summary>The columns the claim and the filter read: the key, and the subject and time <c>is_filtered</c> takes.</summary>
    static readonly EventColumn[] KeyColumns =
        EventsTable.Written.Where(c => c.Name is "source_id" or "message_id" or "user_id" or "anonymous_id" or "received_at").ToArray();

    /// <summary>
    /// Claims the keys of <paramref name="events"/> (at most one event per key, <see cref="FirstOfEachKey"/>) and returns,
    /// in batch order, the place (from 1) and stored_at of each event to insert: its key claimed and no privacy request
    /// filtering it. Only the key and the filter's columns are sent.
    /// </summary>
    internal static NpgsqlBatchCommand ClaimKeysOf(IReadOnlyList<AnalyticsEvent> events)
    {
        var command = new NpgsqlBatchCommand(ClaimKeys);
        foreach (var column in KeyColumns)
            command.Parameters.Add(column.ArrayOf(events));
        return command;
    }

    static readonly string ClaimKeys = $"""
        with batch as materialized (
            select *
            from unnest({string.Join(", ", KeyColumns.Select(c => "@" + c.Name))}) with ordinality
                 as b({string.Join(", ", KeyColumns.Select(c => c.Sql))}, ordinal)
        ),
        {Claimed}
        select ordinal, stored_at
        {ClaimedInOrder}
        """;

    /// <summary>
    /// The batch's first event of each (source, message id), in order: the later ones are duplicates, counted as such
    /// (the batch's event count less those inserted). In the worker rather than the statement: a <c>distinct on</c>
    /// there sorted the whole rows and cost PostgreSQL more than the trigger it replaced saved, for batches of hundreds.
    /// </summary>
    internal static IReadOnlyList<AnalyticsEvent> FirstOfEachKey(IReadOnlyList<AnalyticsEvent> events)
    {
        var keys = new HashSet<(string, string)>(events.Count);
        var firsts = new List<AnalyticsEvent>(events.Count);
        foreach (var e in events)
            if (keys.Add((e.SourceId, e.MessageId))) firsts.Add(e);
        return firsts.Count == events.Count ? events : firsts;
    }
}
