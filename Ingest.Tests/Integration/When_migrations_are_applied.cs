using Dapper;
using Ingest.Database.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Tests.Integration;

public sealed class When_migrations_are_applied
{
    string _database = null!;

    [SetUp]
    public async Task CreateEmptyDatabase()
    {
        _database = $"ingest_migr_{Guid.NewGuid():N}"[..24];
        await TestStack.CreateDatabaseAsync(_database);
    }

    [TearDown]
    public async Task DropIt()
    {
        NpgsqlConnection.ClearAllPools();
        await TestStack.DropDatabaseAsync(_database);
    }

    [Test]
    public async Task Applying_twice_changes_nothing_the_second_time()
    {
        await using var db = NpgsqlDataSource.Create(TestStack.ConnectionStringFor(_database));
        var migrator = new Migrator(db, NullLogger<Migrator>.Instance);

        var first = await migrator.ApplyAsync(CancellationToken.None);
        var second = await migrator.ApplyAsync(CancellationToken.None);

        Assert.That(first, Is.EqualTo(Migrator.Embedded.Count).And.GreaterThan(0));
        Assert.That(second, Is.Zero);
        await AssertEachVersionRecordedOnce(db);
    }

    [Test]
    public async Task Two_processes_applying_at_once_both_succeed_and_apply_each_migration_once()
    {
        var env = new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = TestStack.ConnectionStringFor(_database) };

        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => TestStack.RunAsync("dotnet", $"\"{TestStack.WorkerDll}\" migrate", env)));

        Assert.That(runs.Select(r => r.ExitCode), Is.All.Zero, string.Join("\n", runs.Select(r => r.Output)));
        Assert.That(runs.Sum(r => int.Parse(r.Output.Split(' ')[1])), Is.EqualTo(Migrator.Embedded.Count),
            "between them, the two processes applied each migration exactly once");
        await using var db = NpgsqlDataSource.Create(TestStack.ConnectionStringFor(_database));
        await AssertEachVersionRecordedOnce(db);
    }

    [Test]
    public async Task Four_migrators_racing_in_one_process_leave_one_schema()
    {
        await using var db = NpgsqlDataSource.Create(TestStack.ConnectionStringFor(_database));

        var applied = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => new Migrator(db, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None)));

        Assert.That(applied.Sum(), Is.EqualTo(Migrator.Embedded.Count));
        await AssertEachVersionRecordedOnce(db);
    }

    static async Task AssertEachVersionRecordedOnce(NpgsqlDataSource db)
    {
        await using var conn = await db.OpenConnectionAsync();
        var versions = (await conn.QueryAsync<int>("select version from schema_migrations order by version")).ToList();
        Assert.That(versions, Is.EqualTo(Migrator.Embedded.Select(m => m.Version).ToList()));
        var tables = await conn.QueryAsync<string>("select tablename from pg_tables where schemaname = 'public'");
        Assert.That(tables, Is.SupersetOf(new[] { "sources", "api_keys", "events", "quarantined_events", "ingest_transactions" }));
    }
}
