using System.Globalization;
using System.Text;
using StressTests.Cost;
using StressTests.Runner;

namespace StressTests.Reports;

/// <summary>
/// The CPU per event by process of each scenario that metered it, as a table (summary.md, report.md, report.html) and
/// as lines of its section: issue #14's figures, read as multiples of the bare Kestrel ceiling measured in the same run.
/// </summary>
public static class CostTable
{
    static readonly string[] Columns = ["scenario", "API", "worker", "RabbitMQ", "PostgreSQL", "pipeline", "floor", "× floor", "× request", "load gen", "others", "events/msg", "msgs/txn"];

    public const string Caption =
        "CPU µs per event by process: utime+stime from /proc over each measured window (after warm-up), divided by the events " +
        "accepted in it for the API, RabbitMQ and the load generator, by the events the worker stored in it (its committed " +
        "transactions that started in the window) for the worker and PostgreSQL, by the requests answered for the bare Kestrel " +
        "ceiling and by the rows copied for PostgreSQL's COPY. pipeline = API + worker + RabbitMQ + PostgreSQL; floor = the bare Kestrel " +
        "request's µs over the events a request carries + PostgreSQL's µs per COPY row, both measured in the same run (issue #25); " +
        "× floor = pipeline over floor; × request = pipeline over the bare Kestrel request's µs (issue #14's yardstick). events/msg and msgs/txn: " +
        "the worker's committed transactions that started in the window (ingest_transactions). others: the whole machine's " +
        "busy time (/proc/stat) less the metered processes', per accepted event: whatever else ran meanwhile.";

    public const string Caveats =
        "PostgreSQL is the whole cluster (postmaster, every backend and helper, and children that exited), shared with anything " +
        "else that ran on it meanwhile; RabbitMQ is the node's beam.smp with its children (erl_child_setup, inet_gethost), shared " +
        "likewise; the load generator is the test process alone. The worker's figures count the work done in the window, which may " +
        "include a backlog of events accepted before it and leave some of the window's events for after; both are divided by " +
        "the events stored in the window, so a worker that falls behind the API is not made to look cheaper.";

    /// <summary>The table's rows, one per scenario with a cost; empty when none has one.</summary>
    public static IEnumerable<string[]> Rows(IEnumerable<ScenarioResult> results)
    {
        foreach (var r in results)
        {
            if (r.Cost is not { } c) continue;
            var isFloorPart = IsFloorPart(c);
            yield return
            [
                r.Name,
                Micros(c.MicrosPerEvent(ProcessCpu.Api)),
                Micros(c.MicrosPerEvent(ProcessCpu.Worker)),
                Micros(c.MicrosPerEvent(ProcessCpu.RabbitMq)),
                Micros(c.MicrosPerEvent(ProcessCpu.Postgres)),
                Micros(c.ServerMicrosPerEvent),
                isFloorPart ? "part" : Micros(c.FloorMicrosPerEvent),
                isFloorPart ? "–" : FloorMultiple(c),
                isFloorPart ? "–" : Multiple(c),
                Micros(c.MicrosPerEvent(ProcessCpu.LoadGenerator)),
                Micros(c.OthersMicrosPerEvent),
                Number(c.Batching?.EventsPerMessage),
                Number(c.Batching?.MessagesPerTransaction),
            ];
        }
    }

    public static string Markdown(IEnumerable<ScenarioResult> results)
    {
        var rows = Rows(results).ToList();
        if (rows.Count == 0) return "";
        var sb = new StringBuilder();
        sb.AppendLine(Caption);
        sb.AppendLine();
        sb.AppendLine("| " + string.Join(" | ", Columns) + " |");
        sb.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", Columns.Length - 1)));
        foreach (var row in rows) sb.AppendLine("| " + string.Join(" | ", row) + " |");
        sb.AppendLine();
        sb.AppendLine(Caveats);
        return sb.ToString();
    }

    public static string Html(IEnumerable<ScenarioResult> results)
    {
        static string E(string s) => System.Net.WebUtility.HtmlEncode(s);
        var rows = Rows(results).ToList();
        if (rows.Count == 0) return "";
        var sb = new StringBuilder();
        sb.AppendLine($"<h2>CPU per event</h2><p>{E(Caption)}</p><table><tr>{string.Concat(Columns.Select(c => $"<th>{E(c)}</th>"))}</tr>");
        foreach (var row in rows) sb.AppendLine($"<tr>{string.Concat(row.Select(c => $"<td>{E(c)}</td>"))}</tr>");
        sb.AppendLine($"</table><p>{E(Caveats)}</p>");
        return sb.ToString();
    }

    /// <summary>The lines of a scenario's section: µs per event of each metered process, the total, the multiple, the batching.</summary>
    public static IEnumerable<string> Details(ScenarioCost c)
    {
        var each = string.Join(", ", c.CpuSeconds.Where(p => p.Key != ProcessCpu.Machine).Select(p => $"{p.Key} {Micros(c.MicrosPerEvent(p.Key))}" + (c.EventsFor(p.Key) != c.Events ? F($" (over {c.EventsFor(p.Key)} stored)") : "")));
        yield return F($"CPU µs per event over {c.Events} {c.Counted}: {each}; others on the machine {Micros(c.OthersMicrosPerEvent)}");
        yield return F($"CPU seconds in the window: {string.Join(", ", c.CpuSeconds.Select(p => p.Value is { } v ? F($"{p.Key} {v:0.00}") : $"{p.Key} – (gone or restarted at one end)"))}");
        if (IsFloorPart(c)) yield break;
        var total = F($"{string.Join(" + ", c.ServerProcesses)} = {Micros(c.ServerMicrosPerEvent)} µs per event");
        yield return c.CeilingMicrosPerRequest is { } ceiling
            ? F($"{total}: {Multiple(c)} the bare Kestrel ceiling's {ceiling:0.0} µs per request")
            : total + " (no bare Kestrel ceiling measured in this run)";
        yield return c.FloorMicrosPerEvent is { } floor
            ? F($"{FloorMultiple(c)} the floor's {floor:0.0} µs per event (a bare Kestrel request over the events it carries + PostgreSQL's CPU per COPY row)")
            : "no floor: the bare Kestrel ceiling and PostgreSQL's COPY were not both measured in this run";
        if (c.Batching is { } b)
            yield return F($"batching: {Number(b.EventsPerMessage)} events per broker message, {Number(b.MessagesPerTransaction)} broker messages per transaction, {Number(b.EventsPerTransaction)} events per transaction ({b.Transactions} committed transactions, {b.BrokerMessages} messages, {b.Events} events started in the window)");
    }

    /// <summary>"3.20×" of the bare Kestrel request; "–" without it.</summary>
    public static string Multiple(ScenarioCost c) => c.CeilingMultiple is not { } m ? "–" : F($"{m:0.00}×");

    /// <summary>"3.20×" of the floor, with the goal when there is one ("3.20× (goal ≤2×)"); "–" without a floor.</summary>
    public static string FloorMultiple(ScenarioCost c) =>
        c.FloorMultiple is not { } m ? "–" : F($"{m:0.00}×") + (c.Goal is { } goal ? F($" (goal ≤{goal}×)") : "");

    /// <summary>A part of the floor itself: the bare Kestrel request, or PostgreSQL's COPY.</summary>
    static bool IsFloorPart(ScenarioCost c) => c.ServerProcesses is [ProcessCpu.Kestrel] or [ProcessCpu.Postgres];

    static string Micros(double? us) => us switch { null => "–", >= 100 => F($"{us:0}"), _ => F($"{us:0.0}") };

    static string Number(double? n) => n is { } v ? F($"{v:0.0}") : "–";

    static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
