using Ingest.Contracts;
using Ingest.Database.Events;

namespace Ingest.Worker.Persistence;

/// <summary>
/// The statement that stores a batch's new events, whichever way its rows arrive (<see cref="UnnestInsert"/>'s arrays,
/// <see cref="CopyInsert"/>'s staging table): set-based, what the events_claim_key row trigger did per row until
/// migration 0108.
/// <list type="number">
/// <item>The batch's rows, one per key (<see cref="FirstOfEachKey"/>), materialized once.</item>
/// <item>Their keys claimed in event_keys, in key order (two batches sharing keys take them in the same order, so they
/// wait rather than deadlock), each with the time it is stored; a key already taken skips its event, and a key another
/// transaction holds waits for its outcome, as with any unique index.</item>
/// <item>The claimed events inserted in batch order (their ids ascend as before), each with its key's stored_at, less
/// those a privacy request filters (<c>is_filtered</c>, read only for a source that has filters).</item>
/// </list>
/// The filter is read with the statement's snapshot: exact only when the transaction already has its id when the
/// statement starts (<see cref="AssignTransactionId"/>), so that an erasure committing after the snapshot finds it
/// running and waits for it (PrivacyRunner.EraseAsync).
/// </summary>
static class NewEvents
{
    /// <summary>Gives the transaction its id; sent before <see cref="InsertFrom"/> unless the transaction already wrote.</summary>
    internal const string AssignTransactionId = "select pg_current_xact_id()";

    /// <param name="rows">
    /// A from item with the written columns (<see cref="EventsTable.WrittenColumnList"/>) and <c>ordinal</c>, the event's
    /// place in the batch; at most one row per key (<see cref="FirstOfEachKey"/>): two would both be stored.
    /// </param>
    internal static string InsertFrom(string rows) => $"""
        with batch as materialized (
            select {EventsTable.WrittenColumnList}, ordinal
            from {rows}
        ),
        claimed as (
            insert into event_keys (source_id, message_id, stored_at)
            select source_id, message_id, clock_timestamp() from batch
            order by source_id, message_id
            on conflict (source_id, message_id) do nothing
            returning source_id, message_id, stored_at
        )
        insert into events ({EventsTable.WrittenColumnList}, stored_at)
        select {EventsTable.WrittenColumnList}, stored_at
        from batch join claimed using (source_id, message_id)
        where not (exists (select 1 from privacy_filters f where f.source_id = batch.source_id)
                   and is_filtered(source_id, user_id, anonymous_id, received_at))
        order by ordinal
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
