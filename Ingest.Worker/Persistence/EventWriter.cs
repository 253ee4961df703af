using Ingest.Contracts;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Writes a batch of events and its row in the transaction log in one transaction, idempotent on (source, message id).
/// A small batch goes through <see cref="UnnestInsert"/>, a large one through <see cref="CopyInsert"/>. When PostgreSQL
/// refuses some events' data, or some events could not even be sent (<see cref="UnsendableText"/>), the batch is
/// written again by <see cref="OneByOneInsert"/>: the rest are stored, the refused go to quarantined_events
/// with the reason.
/// </summary>
public sealed class EventWriter(UnnestInsert unnest, CopyInsert copy, OneByOneInsert oneByOne, IOptions<WorkerOptions> options)
{
    readonly int _copyFromEvents = options.Value.CopyFromEvents;

    public async Task<WriteResult> WriteAsync(TransactionAttempt attempt, IReadOnlyList<AnalyticsEvent> events, CancellationToken ct)
    {
        var unsendable = events.Select(UnsendableText.Find).ToArray();
        if (unsendable.All(reason => reason is null))
        {
            try
            {
                var inserted = events.Count >= _copyFromEvents
                    ? await copy.InsertAsync(attempt, events, ct)
                    : await unnest.InsertAsync(attempt, events, ct);
                return new WriteResult(inserted, events.Count - inserted, []);
            }
            catch (PostgresException e) when (DatabaseErrors.IsRefusedData(e))
            {
                // Some event's data is refused: which ones, the next statement finds out.
            }
        }
        return await oneByOne.InsertAsync(attempt, events, unsendable, ct);
    }
}
