using System.Text.Json;
using Dapper;
using Ingest.Contracts;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// A batch that PostgreSQL refused part of: in one transaction, the events that could be sent are inserted one by one
/// in one statement (<c>insert_events_one_by_one</c>, migration 0103: each in a subtransaction of its own), then the
/// refused (those and the unsendable, <see cref="UnsendableText"/>) are quarantined with their reasons and the
/// transaction logged (<see cref="TransactionLog.Committed"/>) in one batch: four round trips (open, the insert, the
/// batch, commit) however many events are refused.
/// </summary>
public sealed class OneByOneInsert(NpgsqlDataSource db)
{
    /// <summary>
    /// Each event inserted on its own, in one statement: one row per event, stored or not and why not. The function's
    /// arguments are the worker's columns' arrays in order (<see cref="EventArrays"/>); the migrated function is checked
    /// against them by When_the_events_table_is_migrated.
    /// </summary>
    internal static readonly string InsertEventsOneByOne = $"""
        select ordinal, stored, reason
        from insert_events_one_by_one({EventArrays.FunctionArguments})
        """;

    /// <summary>
    /// An event already quarantined and not yet replayed stays as it was. Its subject's ids are kept beside the raw
    /// message, for a privacy request to find (and the quarantined_events_skip_erased trigger to filter, migration 0106).
    /// </summary>
    const string QuarantineEvents = """
        insert into quarantined_events (source_id, message_id, raw, reason, transaction_id, user_id, anonymous_id)
        select q.source_id, q.message_id, q.raw, q.reason, @transaction_id, q.user_id, q.anonymous_id
        from unnest(@q_source_ids, @q_message_ids, @q_raws, @q_reasons, @q_user_ids, @q_anonymous_ids) as q(source_id, message_id, raw, reason, user_id, anonymous_id)
        on conflict (source_id, message_id) where replayed_at is null do nothing
        """;

    /// <summary>What <c>insert_events_one_by_one</c> says of the event at <paramref name="Ordinal"/> (from 1); no reason when it was a duplicate.</summary>
    sealed record Outcome(int Ordinal, bool Stored, string? Reason);

    /// <param name="unsendable">For each event, why it cannot be sent at all, or null.</param>
    public async Task<WriteResult> InsertAsync(TransactionAttempt attempt, IReadOnlyList<AnalyticsEvent> events, string?[] unsendable, CancellationToken ct)
    {
        var refused = new List<RefusedEvent>();
        var sendable = new List<AnalyticsEvent>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            if (unsendable[i] is { } reason) refused.Add(new RefusedEvent(events[i], reason));
            else sendable.Add(events[i]);
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var inserted = 0;
        if (sendable.Count > 0)
        {
            await using var insert = new NpgsqlCommand(InsertEventsOneByOne, conn, tx);
            EventArrays.Add(insert.Parameters, sendable);
            await using var reader = await insert.ExecuteReaderAsync(ct);
            var outcome = reader.GetRowParser<Outcome>();
            while (await reader.ReadAsync(ct))
            {
                var (ordinal, stored, why) = outcome(reader);
                if (stored) inserted++;
                else if (why is not null) refused.Add(new RefusedEvent(sendable[ordinal - 1], why));
            }
        }

        var quarantine = new NpgsqlBatchCommand(QuarantineEvents);
        quarantine.Parameters.Add(new NpgsqlParameter<Guid>("transaction_id", attempt.TransactionId));
        quarantine.Parameters.Add(new NpgsqlParameter<string[]>("q_source_ids", refused.Select(r => UnsendableText.Printable(r.Event.SourceId)).ToArray()));
        quarantine.Parameters.Add(new NpgsqlParameter<string[]>("q_message_ids", refused.Select(r => UnsendableText.Printable(r.Event.MessageId)).ToArray()));
        quarantine.Parameters.Add(new NpgsqlParameter<string[]>("q_raws", refused.Select(r => JsonSerializer.Serialize(r.Event, JsonSerializerOptions.Web)).ToArray()));
        quarantine.Parameters.Add(new NpgsqlParameter<string[]>("q_reasons", refused.Select(r => UnsendableText.Printable(r.Reason)).ToArray()));
        quarantine.Parameters.Add(new NpgsqlParameter<string?[]>("q_user_ids", refused.Select(r => r.Event.UserId is { } id ? UnsendableText.Printable(id) : null).ToArray()));
        quarantine.Parameters.Add(new NpgsqlParameter<string?[]>("q_anonymous_ids", refused.Select(r => r.Event.AnonymousId is { } id ? UnsendableText.Printable(id) : null).ToArray()));
        await using (var batch = new NpgsqlBatch(conn, tx) { BatchCommands = { quarantine, TransactionLog.Committed(attempt, events.Count, refused.Count) } })
            await batch.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return new WriteResult(inserted, events.Count - inserted - refused.Count, refused);
    }
}
