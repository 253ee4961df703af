using Dapper;
using Npgsql;

namespace StressTests.Pipeline;

/// <summary>
/// A database of its own on a PostgreSQL cluster, migrated with the worker's own command (Ingest.Worker migrate), and
/// dropped at the end. With <c>ownsCluster</c>, the cluster is a private one (deploy/stack.sh with its own folder and a
/// free port) that a test may stop and start without disturbing the other tests on the stack's cluster.
/// </summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    readonly string admin;
    readonly bool ownsCluster;

    ScratchDatabase(PostgresControl postgres, string name, bool ownsCluster)
    {
        Postgres = postgres;
        Name = name;
        this.ownsCluster = ownsCluster;
        admin = Stack.ConnectionString("postgres", postgres.Port);
        ConnectionString = Stack.ConnectionString(name, postgres.Port);
    }

    public PostgresControl Postgres { get; }
    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<ScratchDatabase> CreateAsync(bool privateCluster, CancellationToken ct)
    {
        var postgres = privateCluster
            ? new PostgresControl(FreePort.Take(), Path.Combine(Repo.Root, ".local", "stress-private-pg"))
            : new PostgresControl(Stack.PostgresPort, StackDirectory: null);
        if (privateCluster) await postgres.StartAsync(ct);
        var database = new ScratchDatabase(postgres, $"stress_{Guid.NewGuid():N}"[..15], privateCluster);
        try
        {
            await using (var conn = new NpgsqlConnection(database.admin))
                await conn.ExecuteAsync(new CommandDefinition($"create database {database.Name}", cancellationToken: ct));
            var migrate = await PipelineUnderTest.RunWorkerCommandAsync(
                new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = database.ConnectionString }, ct, "migrate");
            if (migrate.ExitCode != 0) throw new InvalidOperationException($"Ingest.Worker migrate failed: {migrate.Output}");
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var conn = new NpgsqlConnection(admin);
            await conn.ExecuteAsync(new CommandDefinition($"drop database if exists {Name} with (force)", cancellationToken: timeout.Token));
        }
        finally
        {
            if (ownsCluster) await Postgres.StopAsync(timeout.Token);
        }
    }
}
