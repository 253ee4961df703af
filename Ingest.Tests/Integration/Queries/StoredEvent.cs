using Dapper;
using Npgsql;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// An event row as a test writes it straight into the events table (storage is the worker's business), with its key in
/// event_keys, as an import of stored events inserts them (migration 0108): GET /v1/events/{messageId} finds an event
/// through its key (0110).
/// </summary>
public sealed record StoredEvent(string SourceId, string MessageId, string Type, string? Event, string? UserId, string? AnonymousId, DateTime Timestamp)
{
    public long Id { get; set; }

    /// <summary>When it was stored: the database's clock at the insert unless set (an event of an older partition).</summary>
    public DateTime? StoredAt { get; init; }

    const string InsertEvents = """
        with stored as (
            insert into events (source_id, message_id, type, event, user_id, anonymous_id, "timestamp", received_at, stored_at, properties)
            select s, m, t, e, u, a, ts, ts, coalesce(sa, clock_timestamp()), jsonb_build_object('n', m)
            from unnest(@Sources, @MessageIds, @Types, @Events, @UserIds, @AnonymousIds, @Timestamps, @StoredAts) as x(s, m, t, e, u, a, ts, sa)
            returning id, source_id, message_id, stored_at),
        keys as (
            insert into event_keys (source_id, message_id, stored_at) select source_id, message_id, stored_at from stored)
        select id, message_id from stored
        """;

    /// <summary>Inserts the events in one statement (into the test database, or <paramref name="database"/>) and sets their ids.</summary>
    public static async Task InsertAsync(IReadOnlyList<StoredEvent> events, NpgsqlDataSource? database = null)
    {
        await using var conn = await (database ?? TestStack.Database).OpenConnectionAsync();
        var ids = (await conn.QueryAsync<(long Id, string MessageId)>(InsertEvents, new
        {
            Sources = events.Select(e => e.SourceId).ToArray(),
            MessageIds = events.Select(e => e.MessageId).ToArray(),
            Types = events.Select(e => e.Type).ToArray(),
            Events = events.Select(e => e.Event).ToArray(),
            UserIds = events.Select(e => e.UserId).ToArray(),
            AnonymousIds = events.Select(e => e.AnonymousId).ToArray(),
            Timestamps = events.Select(e => e.Timestamp).ToArray(),
            StoredAts = events.Select(e => e.StoredAt).ToArray(),
        })).ToDictionary(r => r.MessageId, r => r.Id);
        foreach (var e in events) e.Id = ids[e.MessageId];
    }

    public static StoredEvent Track(string sourceId, string name, string? userId, DateTime timestamp, string? anonymousId = null) =>
        new(sourceId, Guid.NewGuid().ToString(), "track", name, userId, anonymousId, timestamp);
}
