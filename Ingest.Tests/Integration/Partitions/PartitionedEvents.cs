using Dapper;
using Ingest.Contracts;
using Ingest.Worker.Persistence;
using Npgsql;

namespace Ingest.Tests.Integration.Partitions;

/// <summary>What the partition tests read and write: the partitions of events, and events written as the worker writes them.</summary>
public static class PartitionedEvents
{
    public sealed record Partition(string Name, DateTime FromAt, DateTime ToAt);

    const string SelectPartitions = "select name as Name, from_at as FromAt, to_at as ToAt from event_partitions order by from_at";

    public static async Task<List<Partition>> ListAsync(NpgsqlDataSource db)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<Partition>(SelectPartitions)).AsList();
    }

    /// <summary>Writes <paramref name="events"/> through the worker's unnest statement, with its transaction-log row; returns the inserted count.</summary>
    public static Task<int> WriteAsync(NpgsqlDataSource db, params AnalyticsEvent[] events) =>
        new UnnestInsert(db).InsertAsync(new TransactionAttempt(Guid.NewGuid(), "partition-test", 1, 1, DateTime.UtcNow, null), events, CancellationToken.None);

    public static AnalyticsEvent Track(string sourceId, string messageId) => TestEvents.Track(sourceId, messageId);
}
