using Ingest.Contracts;
using Ingest.Database.Events;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Small batches: the events as arrays through unnest, inserted unless already stored (the events_claim_key trigger skips
/// an event whose key is taken, migration 0105), and the transaction's log row
/// (<see cref="TransactionLog.Committed"/>), in one batch of two statements: one round trip, one implicit transaction.
/// </summary>
public sealed class UnnestInsert(NpgsqlDataSource db)
{
    /// <summary>The written columns (<see cref="EventsTable.WrittenColumnList"/>) from their arrays (<see cref="EventArrays"/>).</summary>
    internal static readonly string InsertNewEvents = $"""
        insert into events ({EventsTable.WrittenColumnList})
        select * from unnest({EventArrays.UnnestArguments})
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
