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
    public static string RepoRoot => Repo.Root;
    public static int PostgresPort => Stack.PostgresPort;
    public static int AmqpPort => Stack.AmqpPort;
    public static string DatabaseName { get; } = $"ingest_test_{Guid.NewGuid():N}"[..24];
    public static string ConnectionString => ConnectionStringFor(DatabaseName);
    public static NpgsqlDataSource Database { get; private set; } = null!;

    public static string ConnectionStringFor(string database) => Stack.ConnectionString(database);

    /// <summary>The settings that point a host of ours at this run's PostgreSQL and RabbitMQ, sending to or consuming <paramref name="queue"/>.</summary>
    public static Dictionary<string, string?> HostSettings(string queue) => Stack.HostSettings(ConnectionString, queue);

    /// <summary>
    /// One of our hosts as a child process, from its assembly beside the tests' (Ingest.Api.dll, Ingest.Worker.dll),
    /// pointed at this run's PostgreSQL and RabbitMQ (<paramref name="queue"/>), logging CLEF on the console as in production.
    /// </summary>
    /// <param name="defaults">What this host needs over the defaults here, named as in appsettings ("Ingest:Keys:RefreshInterval").</param>
    /// <param name="settings">The test's own, over all the others, named as a deployment names them ("Ingest__Worker__MessageLimit").</param>
    public static HostProcess StartHost(string dll, string queue, IDictionary<string, string?> defaults, IDictionary<string, string>? settings)
    {
        var configuration = HostSettings(queue);
        // CLEF on the console whatever the environment, as in production.
        configuration["Serilog:WriteTo:Console:Args:formatter:type"] = "Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact";
        foreach (var (key, value) in defaults) configuration[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) configuration[key.Replace("__", ":", StringComparison.Ordinal)] = value;
        return HostProcess.Start(Path.Combine(AppContext.BaseDirectory, dll), configuration);
    }

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

    /// <param name="locale">The database's locale, when not the server's (then built from template0, as PostgreSQL requires).</param>
    public static async Task CreateDatabaseAsync(string name, string? locale = null)
    {
        await using var admin = new NpgsqlConnection(ConnectionStringFor("postgres"));
        await admin.ExecuteAsync(locale is null ? $"create database {name}" : $"create database {name} template template0 locale '{locale}'");
    }

    public static async Task DropDatabaseAsync(string name)
    {
        await using var admin = new NpgsqlConnection(ConnectionStringFor("postgres"));
        await admin.ExecuteAsync($"drop database if exists {name} with (force)");
    }

    /// <summary>Runs deploy/stack.sh with one of its commands (stop-postgres, start-rabbitmq…).</summary>
    public static async Task StackAsync(string command)
    {
        await Stack.RunScriptAsync(command);
        if (command.EndsWith("postgres", StringComparison.Ordinal))
        {
            // pooled connections died with the server
            NpgsqlConnection.ClearAllPools();
            Database?.Clear();
        }
    }

    /// <summary>Runs a program from the repository root and returns its exit code and combined output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string file, string arguments, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = Repo.Root };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return ProcessRunner.RunAsync(start);
    }

    /// <summary>The built Ingest.Worker.dll beside this test assembly's build (same configuration).</summary>
    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "Ingest.Worker.dll");
}
