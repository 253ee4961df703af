using System.Diagnostics;
using Dapper;
using Ingest.Database.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Tests.Integration;

/// <summary>
/// The real PostgreSQL and RabbitMQ that deploy/test.sh started (deploy/stack.sh). Each run gets a database of its
/// own, migrated once here and dropped at the end, so runs never see each other's rows.
/// </summary>
[SetUpFixture]
public sealed class TestStack
{
    public static string RepoRoot { get; } = FindRepoRoot();
    public static int PostgresPort { get; } = int.Parse(Environment.GetEnvironmentVariable("INGEST_PG_PORT") ?? "25432");
    public static int AmqpPort { get; } = int.Parse(Environment.GetEnvironmentVariable("INGEST_AMQP_PORT") ?? "25672");
    public static string DatabaseName { get; } = $"ingest_test_{Guid.NewGuid():N}"[..24];
    public static string ConnectionString => ConnectionStringFor(DatabaseName);
    public static NpgsqlDataSource Database { get; private set; } = null!;

    public static string ConnectionStringFor(string database) =>
        $"Host=127.0.0.1;Port={PostgresPort};Username=postgres;Database={database};Timeout=5;Command Timeout=30";

    /// <summary>The settings that point a host of ours at this run's PostgreSQL and RabbitMQ, sending to or consuming <paramref name="queue"/>.</summary>
    public static Dictionary<string, string?> HostSettings(string queue) => new()
    {
        ["ConnectionStrings:Postgres"] = ConnectionString,
        ["Ingest:Broker:Host"] = "127.0.0.1",
        ["Ingest:Broker:Port"] = AmqpPort.ToString(),
        ["Ingest:Broker:Queue"] = queue,
    };

    [OneTimeSetUp]
    public async Task CreateDatabase()
    {
        await CreateDatabaseAsync(DatabaseName);
        Database = NpgsqlDataSource.Create(ConnectionString);
        await new Migrator(Database, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
    }

    [OneTimeTearDown]
    public async Task DropDatabase()
    {
        await Database.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await DropDatabaseAsync(DatabaseName);
    }

    public static async Task CreateDatabaseAsync(string name)
    {
        await using var admin = new NpgsqlConnection(ConnectionStringFor("postgres"));
        await admin.ExecuteAsync($"create database {name}");
    }

    public static async Task DropDatabaseAsync(string name)
    {
        await using var admin = new NpgsqlConnection(ConnectionStringFor("postgres"));
        await admin.ExecuteAsync($"drop database if exists {name} with (force)");
    }

    /// <summary>Runs deploy/stack.sh with one of its commands (stop-postgres, start-rabbitmq…).</summary>
    public static async Task StackAsync(string command)
    {
        var (exitCode, output) = await RunAsync("bash", $"deploy/stack.sh {command}", new Dictionary<string, string>());
        if (exitCode != 0) throw new InvalidOperationException($"deploy/stack.sh {command} failed: {output}");
        if (command.EndsWith("postgres", StringComparison.Ordinal))
        {
            // pooled connections died with the server
            NpgsqlConnection.ClearAllPools();
            Database?.Clear();
        }
    }

    /// <summary>Runs a program from the repository root and returns its exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, string arguments, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The built Ingest.Worker.dll beside this test assembly's build (same configuration).</summary>
    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "Ingest.Worker.dll");

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Analytics.sln"))) return dir.FullName;
        throw new InvalidOperationException("Analytics.sln not found above " + AppContext.BaseDirectory);
    }
}
