using System.Globalization;

namespace StressTests.Cost;

/// <summary>
/// The fields of /proc/&lt;pid&gt;/stat that CPU accounting needs (proc(5)), in clock ticks: the process's own user and
/// system time, and that of its children it has waited for (cutime, cstime).
/// </summary>
public readonly record struct ProcStat(int Pid, int ParentPid, long UserTicks, long SystemTicks, long ChildUserTicks, long ChildSystemTicks)
{
    public long OwnTicks => UserTicks + SystemTicks;

    /// <summary>Its own time and that of its exited children: what a process tree costs without its live descendants.</summary>
    public long OwnAndReapedTicks => OwnTicks + ChildUserTicks + ChildSystemTicks;

    /// <summary>
    /// Parses one stat line. The command name (field 2) is in parentheses and may hold spaces and parentheses, so the
    /// fields are counted from the last ')': state, ppid, … utime (14), stime (15), cutime (16), cstime (17).
    /// </summary>
    public static ProcStat Parse(string line)
    {
        var open = line.IndexOf('(', StringComparison.Ordinal);
        var close = line.LastIndexOf(')');
        if (open <= 0 || close < open) throw new FormatException($"not a /proc/<pid>/stat line: {line}");
        var fields = line[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 15) throw new FormatException($"too few fields in /proc/<pid>/stat: {line}");
        static long L(string s) => long.Parse(s, CultureInfo.InvariantCulture);
        return new ProcStat(int.Parse(line[..open].Trim(), CultureInfo.InvariantCulture), (int)L(fields[1]),
            L(fields[11]), L(fields[12]), L(fields[13]), L(fields[14]));
    }

    /// <summary>The stat of a live process, or null when it is gone (or was never there).</summary>
    public static ProcStat? Read(int pid)
    {
        try
        {
            return Parse(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The ids of the processes /proc lists now (its numeric folders).</summary>
    public static IEnumerable<int> Pids()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                yield return pid;
    }

    /// <summary>Every live process's stat, read once, for finding descendants.</summary>
    public static IReadOnlyList<ProcStat> ReadAll()
    {
        var all = new List<ProcStat>();
        foreach (var pid in Pids())
            if (Read(pid) is { } stat) all.Add(stat);
        return all;
    }

    /// <summary>
    /// The CPU ticks of the tree under <paramref name="root"/>: for the root and each live descendant, its own time and
    /// that of its exited children. Each tick is counted once: a live process's own, or an exited one's in the parent
    /// that waited for it. (A child exiting between two samples moves from one term to the other, unchanged in sum.)
    /// </summary>
    public static long TreeTicks(int root, IReadOnlyList<ProcStat> all)
    {
        var byParent = all.ToLookup(s => s.ParentPid);
        var self = all.FirstOrDefault(s => s.Pid == root);
        if (self.Pid != root) return -1;
        long ticks = 0;
        var pending = new Stack<ProcStat>([self]);
        while (pending.TryPop(out var p))
        {
            ticks += p.OwnAndReapedTicks;
            foreach (var child in byParent[p.Pid]) pending.Push(child);
        }
        return ticks;
    }

    /// <summary>
    /// The busy ticks of the whole machine from /proc/stat's first line (cpu user nice system idle iowait irq softirq
    /// steal …): everything but idle and iowait, summed over the cores; guest time is already in user.
    /// </summary>
    public static long ParseMachineBusy(string cpuLine)
    {
        var fields = cpuLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 8 || fields[0] != "cpu") throw new FormatException($"not /proc/stat's cpu line: {cpuLine}");
        var ticks = fields[1..9].Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return ticks.Sum() - ticks[3] - ticks[4];
    }

    /// <summary>The machine's busy ticks so far (<see cref="ParseMachineBusy"/>), or -1 when /proc/stat is unreadable.</summary>
    public static long ReadMachineBusy()
    {
        try
        {
            return ParseMachineBusy(File.ReadLines("/proc/stat").First());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }
    }

    /// <summary>Clock ticks a second (getconf CLK_TCK), 100 on Linux unless it says otherwise.</summary>
    public static long TicksPerSecond { get; } = GetConf();

    static long GetConf()
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("getconf", ["CLK_TCK"]) { RedirectStandardOutput = true };
            using var process = System.Diagnostics.Process.Start(start);
            var output = process?.StandardOutput.ReadToEnd();
            process?.WaitForExit();
            return long.TryParse(output?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var hz) && hz > 0 ? hz : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}
