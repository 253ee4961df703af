using Ingest.Contracts;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Small batches: the events as arrays through unnest, inserted unless already stored (the events_claim_key trigger skips
/// an event whose key is taken, migration 0105), and the transaction's log row
/// (<see cref="TransactionLog.Committed"/>), in one batch of two statements: one round trip, one implicit transaction.
/// </summary>
public sealed class UnnestInsert(NpgsqlDataSource db)
{
    const string InsertNewEvents = """
        insert into events (source_id, message_id, type, event, name, user_id, anonymous_id, group_id, previous_id, "timestamp",
                            original_timestamp, sent_at, received_at, timestamp_clamped, properties, traits, context, integrations)
        select * from unnest(@source_ids, @message_ids, @types, @events, @names, @user_ids, @anonymous_ids, @group_ids,
                             @previous_ids, @timestamps, @original_timestamps, @sent_ats, @received_ats, @clamped,
                             @properties::jsonb[], @traits::jsonb[], @contexts::jsonb[], @integrations::jsonb[])
        """;

    /// <returns>The events inserted; the rest were already stored.</returns>
    public async Task<int> InsertAsync(TransactionAttempt attempt, IReadOnlyList<AnalyticsEvent> events, CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        var insert = new NpgsqlBatchCommand(InsertNewEvents);
        EventArrays.Add(insert.Parameters, events);
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(TransactionLog.Committed(attempt, events.Count, quarantined: 0));
        return (int)(await batch.ExecuteScalarAsync(ct))!;
    }
}
