using Dapper;
using Ingest.Tests.Integration.Worker;
using Ingest.Worker.Partitions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Ingest.Tests.Integration.Partitions.PartitionedEvents;

namespace Ingest.Tests.Integration.Partitions;

/// <summary>
/// A database whose events were stored over seven months, one a week, in monthly partitions; then the worker's
/// partition maintenance with Ingest:Retention of 100 days, twice.
/// </summary>
public sealed class When_retention_drops_old_partitions
{
    static readonly TimeSpan Retention = TimeSpan.FromDays(100);
    const string Source = "retained";

    /// <summary>
    /// Thirty events, one every seven days back from now: their stored_at spans eight calendar months. With their keys,
    /// as an import of stored events inserts them (only the worker's statements claim keys, migration 0108).
    /// </summary>
    const string InsertEventsStoredOverSevenMonths = """
        with stored as (
            insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at, stored_at)
            select @Source, 'week-' || i, 'track', 'Stored', 'u1', t, t, t
            from generate_series(0, 29) as i, lateral (select now() - interval '7 days' * i as t) x
            returning source_id, message_id, stored_at
        )
        insert into event_keys (source_id, message_id, stored_at)
        select source_id, message_id, stored_at from stored
        """;

    const string SelectStored = "select message_id as MessageId, stored_at as StoredAt from events where source_id = @Source";
    const string SelectKeys = "select message_id from event_keys where source_id = @Source";

    OwnDatabase _db = null!;
    DateTimeOffset _now;
    List<Partition> _before = null!;
    List<Partition> _after = null!;
    List<Partition> _afterSecondPass = null!;
    List<(string MessageId, DateTime StoredAt)> _storedBefore = null!;
    List<(string MessageId, DateTime StoredAt)> _storedAfter = null!;
    List<string> _keysAfter = null!;

    DateTime Cutoff => (_now - Retention).UtcDateTime;

    [OneTimeSetUp]
    public async Task StoreOverSevenMonthsThenApplyRetention()
    {
        _db = await OwnDatabase.CreateAsync();
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("select create_event_partitions('month', 2, now() - interval '7 months')");
            await conn.ExecuteAsync(InsertEventsStoredOverSevenMonths, new { Source });
            _storedBefore = (await conn.QueryAsync<(string, DateTime)>(SelectStored, new { Source })).AsList();
        }
        _before = await ListAsync(_db.DataSource);
        _now = DateTimeOffset.UtcNow;
        var maintenance = new PartitionMaintenance(_db.DataSource, Options.Create(new PartitionOptions { Retention = Retention }), new FixedTime(_now),
            NullLogger<PartitionMaintenance>.Instance);

        await maintenance.RunAsync(CancellationToken.None);
        _after = await ListAsync(_db.DataSource);
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            _storedAfter = (await conn.QueryAsync<(string, DateTime)>(SelectStored, new { Source })).AsList();
            _keysAfter = (await conn.QueryAsync<string>(SelectKeys, new { Source })).AsList();
        }
        await maintenance.RunAsync(CancellationToken.None);
        _afterSecondPass = await ListAsync(_db.DataSource);
    }

    [OneTimeTearDown]
    public async Task DropDatabase() => await _db.DisposeAsync();

    [Test]
    public void The_partitions_wholly_older_than_the_retention_are_dropped_and_no_other()
    {
        var expected = _before.Where(p => p.ToAt > Cutoff).Select(p => p.Name).ToList();

        Assert.That(_before.Count(p => p.ToAt <= Cutoff), Is.GreaterThanOrEqualTo(3), "the setup spans months past the retention");
        Assert.That(_after.Select(p => p.Name), Is.EqualTo(expected));
    }

    [Test]
    public void The_events_of_the_kept_partitions_are_all_there_and_those_of_the_dropped_gone()
    {
        var keptFrom = _after.Min(p => p.FromAt);
        var expected = _storedBefore.Where(e => e.StoredAt >= keptFrom).Select(e => e.MessageId).Order();

        Assert.That(_storedAfter.Select(e => e.MessageId).Order(), Is.EqualTo(expected));
        Assert.That(_storedBefore.Where(e => e.StoredAt > Cutoff).Select(e => e.MessageId), Is.SubsetOf(_storedAfter.Select(e => e.MessageId)),
            "every event stored within the retention is kept");
        Assert.That(_storedAfter, Has.Count.LessThan(_storedBefore.Count));
    }

    [Test]
    public void The_keys_of_the_dropped_events_are_deleted_and_those_of_the_kept_remain()
    {
        Assert.That(_keysAfter.Order(), Is.EqualTo(_storedAfter.Select(e => e.MessageId).Order()));
    }

    [Test]
    public void A_second_pass_drops_and_creates_nothing()
    {
        Assert.That(_afterSecondPass, Is.EqualTo(_after));
    }

    [Test]
    public async Task A_recent_event_sent_again_is_still_refused_as_a_duplicate()
    {
        var recent = _storedAfter.MaxBy(e => e.StoredAt).MessageId;

        var inserted = await WriteAsync(_db.DataSource, Track(Source, recent));

        Assert.That(inserted, Is.Zero);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<int>("select count(*) from events where source_id = @Source and message_id = @recent", new { Source, recent }), Is.EqualTo(1));
    }

    [Test]
    public async Task An_event_sent_again_after_its_partition_was_dropped_is_stored_anew()
    {
        var dropped = _storedBefore.Select(e => e.MessageId).Except(_storedAfter.Select(e => e.MessageId)).First();

        var inserted = await WriteAsync(_db.DataSource, Track(Source, dropped));

        Assert.That(inserted, Is.EqualTo(1), "deduplication lasts as long as the event is stored, no longer");
    }

    sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
