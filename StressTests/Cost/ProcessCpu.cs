using System.Globalization;
using Npgsql;

namespace StressTests.Cost;

/// <summary>A process whose CPU time a scenario meters; with its descendants (a server's helper processes) or alone.</summary>
public sealed record MeteredProcess(string Name, int Pid, bool WithDescendants);

/// <summary>The CPU ticks of each metered process at one moment; -1 for a process that was gone.</summary>
public sealed record CpuSample(DateTime At, IReadOnlyDictionary<string, long> Ticks);

/// <summary>Two samples: the start and the end of a scenario's measured window (after warm-up).</summary>
public sealed record CpuWindow(CpuSample Start, CpuSample End)
{
    /// <summary>The CPU seconds of every process sampled, and of the whole machine, in the window (null where not known).</summary>
    public IReadOnlyDictionary<string, double?> AllSeconds() => Start.Ticks.Keys.ToDictionary(name => name, Seconds);

    /// <summary>The CPU seconds <paramref name="name"/> used in the window; null when it was not metered, or gone at either end (restarted).</summary>
    public double? Seconds(string name) =>
        Start.Ticks.TryGetValue(name, out var a) && End.Ticks.TryGetValue(name, out var b) && a >= 0 && b >= a
            ? (double)(b - a) / ProcStat.TicksPerSecond
            : null;
}

/// <summary>
/// Samples the CPU time (utime+stime from /proc/&lt;pid&gt;/stat) of the processes a scenario loads: the API, the worker,
/// RabbitMQ's node, the PostgreSQL cluster and the load generator (this test process), or the bare Kestrel ceiling.
/// </summary>
public sealed class ProcessCpu(IReadOnlyList<MeteredProcess> processes)
{
    public const string Api = "API";
    public const string Worker = "worker";
    public const string RabbitMq = "RabbitMQ";
    public const string Postgres = "PostgreSQL";
    public const string LoadGenerator = "load generator";
    public const string Kestrel = "bare Kestrel";

    /// <summary>The whole machine's busy time (/proc/stat), sampled beside the processes: what they leave is what others used.</summary>
    public const string Machine = "whole machine";

    public IReadOnlyList<MeteredProcess> Processes { get; } = processes;

    /// <summary>This test process alone: the load generator (not the hosts it started, which are its children).</summary>
    public static MeteredProcess Self => new(LoadGenerator, Environment.ProcessId, WithDescendants: false);

    public CpuSample Sample()
    {
        var all = Processes.Any(p => p.WithDescendants) ? ProcStat.ReadAll() : [];
        var ticks = new Dictionary<string, long>();
        foreach (var p in Processes)
            ticks[p.Name] = p.WithDescendants ? ProcStat.TreeTicks(p.Pid, all) : ProcStat.Read(p.Pid)?.OwnTicks ?? -1;
        ticks[Machine] = ProcStat.ReadMachineBusy();
        return new CpuSample(DateTime.UtcNow, ticks);
    }

    /// <summary>
    /// The node of the stack's RabbitMQ on <paramref name="amqpPort"/>: the beam.smp started with deploy/stack.sh's
    /// epmd port (AMQP port + 11), else the pid in the stack's pid file (INGEST_STACK_DIR/rabbit/pid). Null if neither.
    /// </summary>
    public static int? FindRabbitMq(int amqpPort)
    {
        var epmd = (amqpPort + 11).ToString(CultureInfo.InvariantCulture);
        foreach (var pid in ProcStat.Pids())
        {
            string[] args;
            try
            {
                args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            if (Path.GetFileName(args[0]) == "beam.smp" && IsFollowedBy(args, "-epmd_port", epmd)) return pid;
        }
        var stackDir = Environment.GetEnvironmentVariable("INGEST_STACK_DIR") is { Length: > 0 } d ? d : Path.Combine(Repo.Root, ".local", "stack");
        var pidFile = Path.Combine(stackDir, "rabbit", "pid");
        return File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var filed) && ProcStat.Read(filed) is not null
            ? filed
            : null;
    }

    static bool IsFollowedBy(string[] args, string flag, string value)
    {
        for (var i = 0; i + 1 < args.Length; i++)
            if (args[i] == flag && args[i + 1] == value) return true;
        return false;
    }

    /// <summary>The postmaster of the cluster <paramref name="database"/> is on: the parent of this connection's backend.</summary>
    public static async Task<int?> FindPostmasterAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await FindPostmasterAsync(connection, ct);
    }

    /// <summary>The postmaster of the cluster <paramref name="connection"/> is on: the parent of its backend.</summary>
    public static async Task<int?> FindPostmasterAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_backend_pid()", connection);
        var backend = (int)(await command.ExecuteScalarAsync(ct))!;
        return ProcStat.Read(backend)?.ParentPid;
    }
}
