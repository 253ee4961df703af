using System.Diagnostics;
using Ingest.Contracts;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Writes a batch of events in one round trip: the events through unnest, idempotent on (source, message id),
/// and the batch's row in the transaction log, in one statement and so one transaction.
/// </summary>
public sealed class EventWriter(NpgsqlDataSource db, ILogger<EventWriter> log)
{
    const string InsertEventsAndLogTransaction = """
        with batch as (
            select * from unnest(@source_ids, @message_ids, @types, @events, @names, @user_ids, @anonymous_ids, @group_ids,
                                 @previous_ids, @timestamps, @original_timestamps, @sent_ats, @received_ats, @clamped,
                                 @properties::jsonb[], @traits::jsonb[], @contexts::jsonb[], @integrations::jsonb[])
                as b(source_id, message_id, type, event, name, user_id, anonymous_id, group_id, previous_id, "timestamp",
                     original_timestamp, sent_at, received_at, timestamp_clamped, properties, traits, context, integrations)
        ), inserted as (
            insert into events (source_id, message_id, type, event, name, user_id, anonymous_id, group_id, previous_id, "timestamp",
                                original_timestamp, sent_at, received_at, timestamp_clamped, properties, traits, context, integrations)
            select * from batch
            on conflict (source_id, message_id) do nothing
            returning 1
        )
        insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, inserted, duplicates, attempt)
        select @transaction_id, @worker_host, @started_at, clock_timestamp(), 'committed', @broker_messages, @event_count,
               count(*), @event_count - count(*), 1
        from inserted
        returning inserted
        """;

    public async Task<int> WriteAsync(int brokerMessages, IReadOnlyList<AnalyticsEvent> events, CancellationToken ct)
    {
        var transactionId = Guid.CreateVersion7();
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        await using var cmd = db.CreateCommand(InsertEventsAndLogTransaction);
        Add(cmd, "source_ids", events, e => e.SourceId);
        Add(cmd, "message_ids", events, e => e.MessageId);
        Add(cmd, "types", events, e => e.Type);
        Add(cmd, "events", events, e => e.Event);
        Add(cmd, "names", events, e => e.Name);
        Add(cmd, "user_ids", events, e => e.UserId);
        Add(cmd, "anonymous_ids", events, e => e.AnonymousId);
        Add(cmd, "group_ids", events, e => e.GroupId);
        Add(cmd, "previous_ids", events, e => e.PreviousId);
        Add(cmd, "timestamps", events, e => e.Timestamp.UtcDateTime);
        Add(cmd, "original_timestamps", events, e => e.OriginalTimestamp?.UtcDateTime);
        Add(cmd, "sent_ats", events, e => e.SentAt?.UtcDateTime);
        Add(cmd, "received_ats", events, e => e.ReceivedAt.UtcDateTime);
        Add(cmd, "clamped", events, e => e.TimestampClamped);
        Add(cmd, "properties", events, e => e.Properties?.GetRawText());
        Add(cmd, "traits", events, e => e.Traits?.GetRawText());
        Add(cmd, "contexts", events, e => e.Context?.GetRawText());
        Add(cmd, "integrations", events, e => e.Integrations?.GetRawText());
        cmd.Parameters.AddWithValue("transaction_id", transactionId);
        cmd.Parameters.AddWithValue("worker_host", Environment.MachineName);
        cmd.Parameters.AddWithValue("started_at", started);
        cmd.Parameters.AddWithValue("broker_messages", brokerMessages);
        cmd.Parameters.AddWithValue("event_count", events.Count);
        var inserted = (int)(await cmd.ExecuteScalarAsync(ct))!;
        log.LogInformation("Transaction {TransactionId} {Status}: {EventCount} events, {Inserted} inserted, {Duplicates} duplicates in {ElapsedMs} ms",
            transactionId, "committed", events.Count, inserted, events.Count - inserted, clock.ElapsedMilliseconds);
        return inserted;
    }

    static void Add<T>(NpgsqlCommand cmd, string name, IReadOnlyList<AnalyticsEvent> events, Func<AnalyticsEvent, T> value)
    {
        var values = new T[events.Count];
        for (var i = 0; i < values.Length; i++) values[i] = value(events[i]);
        cmd.Parameters.Add(new NpgsqlParameter<T[]>(name, values));
    }
}
