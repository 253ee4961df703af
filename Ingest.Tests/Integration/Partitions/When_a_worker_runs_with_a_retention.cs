using Dapper;
using Ingest.Tests.Integration.Worker;
using static Ingest.Tests.Integration.Partitions.PartitionedEvents;

namespace Ingest.Tests.Integration.Partitions;

/// <summary>
/// The worker process started with Ingest__Retention (100 days) and Ingest__Partitions__Ahead (4) on a database whose
/// partitions go back seven months: its partition maintenance applies both at start.
/// </summary>
public sealed class When_a_worker_runs_with_a_retention : OwnDatabaseTest
{
    [Test, CancelAfter(60_000)]
    public async Task It_drops_the_partitions_past_the_retention_and_makes_those_ahead(CancellationToken ct)
    {
        await using (var conn = await Db.DataSource.OpenConnectionAsync(ct))
            await conn.ExecuteAsync(new CommandDefinition("select create_event_partitions('month', 2, now() - interval '7 months')", cancellationToken: ct));
        var thisMonth = new DateTime(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, DateTimeKind.Utc);

        await using var worker = await WorkerProcess.StartAsync(EventSender.NewQueue("retention"), new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = Db.ConnectionString,
            ["Ingest__Retention"] = "100.00:00:00",
            ["Ingest__Partitions__Ahead"] = "4",
        });

        List<Partition> partitions = [];
        await Eventually.HoldsAsync(async _ =>
        {
            partitions = await ListAsync(Db.DataSource);
            return partitions[^1].FromAt == thisMonth.AddMonths(4) && partitions[0].ToAt > DateTime.UtcNow.AddDays(-100);
        }, TimeSpan.FromSeconds(30), () => "the worker to make four months ahead and drop those past 100 days: " + string.Join(", ", partitions));
        Assert.That(partitions[0].FromAt, Is.LessThanOrEqualTo(DateTime.UtcNow.AddDays(-100)), "the partition holding the retention's start is kept");
    }
}
