using System.Globalization;

namespace Ingest.Testing;

/// <summary>
/// The PostgreSQL and RabbitMQ that deploy/stack.sh runs, on the ports it exports (INGEST_PG_PORT, INGEST_AMQP_PORT;
/// its defaults otherwise): the one reader of that environment, and the way to the script's commands.
/// </summary>
public static class Stack
{
    public static int PostgresPort { get; } = Port("INGEST_PG_PORT", 25432);
    public static int AmqpPort { get; } = Port("INGEST_AMQP_PORT", 25672);

    /// <summary>As the superuser to <paramref name="database"/> on the stack's cluster, or on another one's <paramref name="port"/>.</summary>
    public static string ConnectionString(string database, int? port = null) =>
        $"Host=127.0.0.1;Port={port ?? PostgresPort};Username=postgres;Database={database};Timeout=5;Command Timeout=30";

    /// <summary>The settings that point a host of ours at <paramref name="connectionString"/> and the stack's RabbitMQ, sending to or consuming <paramref name="queue"/>.</summary>
    public static Dictionary<string, string?> HostSettings(string connectionString, string queue) => new()
    {
        ["ConnectionStrings:Postgres"] = connectionString,
        ["Ingest:Broker:Host"] = "127.0.0.1",
        ["Ingest:Broker:Port"] = AmqpPort.ToString(CultureInfo.InvariantCulture),
        ["Ingest:Broker:Queue"] = queue,
    };

    /// <summary>
    /// Runs deploy/stack.sh with one of its commands (stop-postgres, consumer-timeout 15000…), failing with its output if it
    /// fails; <paramref name="environment"/> over this process's (another INGEST_PG_PORT, INGEST_STACK_DIR).
    /// </summary>
    public static async Task RunScriptAsync(string command, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        // A command may carry its arguments ("consumer-timeout 15000").
        var (exitCode, output) = await ProcessRunner.RunAsync("bash", [Path.Combine("deploy", "stack.sh"), .. command.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            environment, timeout, ct);
        if (exitCode != 0) throw new InvalidOperationException($"deploy/stack.sh {command} failed ({exitCode}): {output}");
    }

    static int Port(string variable, int fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
