using Dapper;
using Ingest.Database.Keys;
using Ingest.Database.Migrations;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Queries;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Ingest.Tests.Integration.Partitions.PartitionedEvents;

namespace Ingest.Tests.Integration.Partitions;

/// <summary>
/// A database as release 0104 left it, holding events stored over two months by three transactions (one of them
/// before the live tail recorded transaction ids), then migrated to partitioned events (0105).
/// </summary>
public sealed class When_a_database_holding_events_is_migrated_to_partitions
{
    const int LastUnpartitionedVersion = 104;
    const string Source = "migrated";

    const string InsertEventsOverTwoMonths = """
        insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at, stored_at, properties, xact_id)
        select @Source, @Prefix || i, 'track', 'Before', 'u' || (i % 3), t, t, t, jsonb_build_object('n', i),
               case when @WithXact then pg_current_xact_id() end
        from generate_series(1, 10) as i, lateral (select now() - interval '6 days' * i - @Offset as t) x
        """;

    /// <summary>Every column of every row, as text, in id order.</summary>
    const string SelectRows = "select to_jsonb(e)::text from events e order by id";

    string _name = null!;
    NpgsqlDataSource _db = null!;
    List<string> _rowsBefore = null!;
    List<string> _rowsAfter = null!;
    long _maxIdBefore;

    [OneTimeSetUp]
    public async Task MigrateADatabaseThatHoldsEvents()
    {
        _name = $"ingest_parts_{Guid.NewGuid():N}"[..24];
        await TestStack.CreateDatabaseAsync(_name);
        _db = NpgsqlDataSource.Create(TestStack.ConnectionStringFor(_name));
        var migrator = new Migrator(_db, NullLogger<Migrator>.Instance);
        await migrator.ApplyAsync(LastUnpartitionedVersion, CancellationToken.None);
        await using (var conn = await _db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync(InsertEventsOverTwoMonths, new { Source, Prefix = "untailed-", WithXact = false, Offset = TimeSpan.FromDays(1) });
            await conn.ExecuteAsync(InsertEventsOverTwoMonths, new { Source, Prefix = "first-", WithXact = true, Offset = TimeSpan.FromHours(1) });
            await conn.ExecuteAsync(InsertEventsOverTwoMonths, new { Source, Prefix = "second-", WithXact = true, Offset = TimeSpan.Zero });
            _rowsBefore = (await conn.QueryAsync<string>(SelectRows)).AsList();
            _maxIdBefore = await conn.ExecuteScalarAsync<long>("select max(id) from events");
        }

        await migrator.ApplyAsync(CancellationToken.None);

        await using (var conn = await _db.OpenConnectionAsync())
            _rowsAfter = (await conn.QueryAsync<string>(SelectRows)).AsList();
    }

    [OneTimeTearDown]
    public async Task DropDatabase()
    {
        await _db.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await TestStack.DropDatabaseAsync(_name);
    }

    [Test]
    public async Task Events_is_partitioned_by_month_over_the_stored_rows()
    {
        await using var conn = await _db.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<string>("select relkind::text from pg_class where oid = 'events'::regclass"), Is.EqualTo("p"));
        var partitions = await ListAsync(_db);
        Assert.That(partitions, Has.Count.GreaterThanOrEqualTo(4), "the months of the rows, and two ahead");
        Assert.That(await conn.ExecuteScalarAsync<int>("select count(distinct tableoid) from events"), Is.GreaterThanOrEqualTo(2), "the rows spread over months");
    }

    [Test]
    public void Every_row_survives_with_its_id_and_transaction_id()
    {
        Assert.That(_rowsBefore, Has.Count.EqualTo(30));
        Assert.That(_rowsAfter, Is.EqualTo(_rowsBefore));
    }

    [Test]
    public async Task An_event_stored_before_the_migration_and_sent_again_is_refused()
    {
        var inserted = await WriteAsync(_db, Track(Source, "first-7"), Track(Source, "untailed-2"));

        Assert.That(inserted, Is.Zero);
        await using var conn = await _db.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<int>("select count(*) from events where message_id in ('first-7', 'untailed-2')"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_new_event_is_stored_with_an_id_after_the_old_ones()
    {
        var messageId = $"new-{Guid.NewGuid():N}";

        var inserted = await WriteAsync(_db, Track(Source, messageId));

        Assert.That(inserted, Is.EqualTo(1));
        await using var conn = await _db.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<long>("select id from events where message_id = @messageId", new { messageId }), Is.GreaterThan(_maxIdBefore));
    }

    [Test]
    public async Task The_live_tail_streams_an_event_stored_after_the_migration()
    {
        var source = $"tail-{Guid.NewGuid():N}"[..20];
        await KeyRecords.AddSourceAsync(_db, source, source, [], CancellationToken.None);
        var writeKey = await KeyRecords.CreateKeyAsync(_db, source, "write", CancellationToken.None);
        var readKey = await KeyRecords.CreateKeyAsync(_db, source, "read", CancellationToken.None);
        using var api = new ApiHost(new() { ["ConnectionStrings:Postgres"] = TestStack.ConnectionStringFor(_name) });
        var http = await api.StartAsync(writeKey);
        await ReadSide.ReadKeyLoadedAsync(http, readKey);
        await using var client = await SseClient.OpenAsync("/v1/events/stream", readKey, api: http);

        var messageId = $"tailed-{Guid.NewGuid():N}";
        Assert.That(await WriteAsync(_db, Track(source, messageId)), Is.EqualTo(1));

        var received = await client.NextAsync(TimeSpan.FromSeconds(5));
        Assert.That(received.Data.GetProperty("messageId").GetString(), Is.EqualTo(messageId));
    }
}
