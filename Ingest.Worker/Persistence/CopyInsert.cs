using Ingest.Contracts;
using Ingest.Database.Events;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Large batches: the keys claimed first (<see cref="NewEvents.ClaimKeysOf"/>, after <see cref="NewEvents.AssignTransactionId"/>
/// in the same round trip), then only the claimed events, with their keys' stored_at, by binary COPY straight into events,
/// then the transaction's log row (<see cref="TransactionLog.Committed"/>), in one transaction. PostgreSQL inserts a
/// COPY's rows a page at a time and reads nothing back; until 2026-12-06 the rows went through a staging table and an
/// <c>INSERT … SELECT</c>, which cost it 8–15% more per row. The worker's benchmark measured COPY about twice as fast as
/// the unnest statement from 1,000 events a batch, and three times slower at 100 (see <see cref="WorkerOptions.CopyFromEvents"/>).
/// </summary>
public sealed class CopyInsert(NpgsqlDataSource db)
{
    /// <summary>The worker's columns of the events row (<see cref="EventsTable.WrittenColumnList"/>) in their order, then stored_at: <see cref="WriteRowAsync"/>'s order.</summary>
    internal static readonly string CopyIntoEvents = $"""
        copy events ({EventsTable.WrittenColumnList}, stored_at)
        from stdin (format binary)
        """;

    /// <returns>The events inserted; the rest were already stored.</returns>
    public async Task<int> InsertAsync(TransactionAttempt attempt, IReadOnlyList<AnalyticsEvent> events, CancellationToken ct)
    {
        var firsts = NewEvents.FirstOfEachKey(events);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var claimed = new List<(AnalyticsEvent Event, DateTime StoredAt)>(firsts.Count);
        await using (var claim = new NpgsqlBatch(conn, tx) { BatchCommands = { new(NewEvents.AssignTransactionId), NewEvents.ClaimKeysOf(firsts) } })
        await using (var rows = await claim.ExecuteReaderAsync(ct))
        {
            await rows.NextResultAsync(ct); // past the transaction id, to the claimed events
            while (await rows.ReadAsync(ct))
                claimed.Add((firsts[(int)rows.GetInt64(0) - 1], rows.GetFieldValue<DateTime>(1)));
        }
        if (claimed.Count > 0)
        {
            await using var copy = await conn.BeginBinaryImportAsync(CopyIntoEvents, ct);
            foreach (var (e, storedAt) in claimed)
                await WriteRowAsync(copy, e, storedAt, ct);
            await copy.CompleteAsync(ct);
        }
        int inserted;
        await using (var log = new NpgsqlBatch(conn, tx) { BatchCommands = { TransactionLog.Committed(attempt, events.Count, quarantined: 0) } })
            inserted = (int)(await log.ExecuteScalarAsync(ct))!;
        await tx.CommitAsync(ct);
        return inserted;
    }

    static async Task WriteRowAsync(NpgsqlBinaryImporter copy, AnalyticsEvent e, DateTime storedAt, CancellationToken ct)
    {
        await copy.StartRowAsync(ct);
        foreach (var column in EventsTable.Written)
            await column.WriteAsync(copy, e, ct);
        await copy.WriteAsync(storedAt, NpgsqlDbType.TimestampTz, ct);
    }
}
