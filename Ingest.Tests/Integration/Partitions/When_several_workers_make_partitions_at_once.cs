using Dapper;
using Ingest.Tests.Integration.Worker;
using Ingest.Worker.Partitions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Ingest.Tests.Integration.Partitions.PartitionedEvents;

namespace Ingest.Tests.Integration.Partitions;

/// <summary>Four workers' partition maintenance, started together, asked for six months ahead where the migration made two.</summary>
public sealed class When_several_workers_make_partitions_at_once
{
    [Test]
    public async Task Each_partition_is_made_once_without_gap_or_overlap()
    {
        await using var db = await OwnDatabase.CreateAsync();
        var before = await ListAsync(db.DataSource);
        var options = Options.Create(new PartitionOptions { Period = "month", Ahead = 6 });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            new PartitionMaintenance(db.DataSource, options, TimeProvider.System, NullLogger<PartitionMaintenance>.Instance).RunAsync(CancellationToken.None)));

        var after = await ListAsync(db.DataSource);
        Assert.That(after, Has.Count.EqualTo(before.Count + 4));
        Assert.That(after.Zip(after.Skip(1)).All(pair => pair.First.ToAt == pair.Second.FromAt), Is.True,
            "each partition starts where the one before ends: " + string.Join(", ", after));
        Assert.That(after[^1].FromAt, Is.EqualTo(new DateTime(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(6)));
    }

    [Test]
    public async Task A_change_to_weekly_partitions_continues_where_the_monthly_ones_end()
    {
        await using var db = await OwnDatabase.CreateAsync();
        var monthly = await ListAsync(db.DataSource);
        await using (var conn = await db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("select create_event_partitions('week', 20)");

        var after = await ListAsync(db.DataSource);
        var weekly = after.Skip(monthly.Count).ToList();
        Assert.That(weekly, Is.Not.Empty);
        Assert.That(weekly[0].FromAt, Is.EqualTo(monthly[^1].ToAt));
        Assert.That(weekly.Skip(1).All(p => p.FromAt.DayOfWeek == DayOfWeek.Monday && p.ToAt - p.FromAt == TimeSpan.FromDays(7)), Is.True, string.Join(", ", weekly));
        Assert.That(after.Zip(after.Skip(1)).All(pair => pair.First.ToAt == pair.Second.FromAt), Is.True);
    }
}
