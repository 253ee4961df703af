using Ingest.Contracts;
using Ingest.Database.Events;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Small batches: the events as arrays through unnest, inserted unless already stored (<see cref="NewEvents"/>), and the
/// transaction's log row (<see cref="TransactionLog.Committed"/>), in one batch of three statements (the first gives the
/// transaction its id, <see cref="NewEvents.AssignTransactionId"/>): one round trip, one implicit transaction.
/// </summary>
public sealed class UnnestInsert(NpgsqlDataSource db)
{
    /// <summary>The written columns (<see cref="EventsTable.WrittenColumnList"/>) from their arrays (<see cref="EventArrays"/>).</summary>
    internal static readonly string InsertNewEvents =
        NewEvents.InsertFrom($"unnest({EventArrays.UnnestArguments}) with ordinality as b({EventsTable.WrittenColumnList}, ordinal)");

    /// <returns>The events inserted; the rest were already stored.</returns>
    public async Task<int> InsertAsync(TransactionAttempt attempt, IReadOnlyList<AnalyticsEvent> events, CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(NewEvents.AssignTransactionId));
        var insert = new NpgsqlBatchCommand(InsertNewEvents);
        EventArrays.Add(insert.Parameters, NewEvents.FirstOfEachKey(events));
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(TransactionLog.Committed(attempt, events.Count, quarantined: 0));
        await using var results = await batch.ExecuteReaderAsync(ct);
        await results.NextResultAsync(ct); // past the transaction id, to the log row's count
        await results.ReadAsync(ct);
        return results.GetInt32(0);
    }
}
