using System.Globalization;
using System.Net;
using System.Text;
using StressTests.Runner;

namespace StressTests.Reports;

/// <summary>
/// The report of one test run: every scenario's result in Markdown (report.md, and the table alone in summary.md)
/// and in HTML with latency and throughput charts drawn as inline SVG. Written again after each scenario, so a run
/// that dies half-way still leaves what it measured. The folder is STRESS_REPORT_DIR, or
/// &lt;repo&gt;/stress-reports/&lt;UTC time&gt; (git-ignored).
/// </summary>
public static class RunReport
{
    static readonly Lock Gate = new();
    static readonly List<ScenarioResult> Results = [];
    static readonly DateTime StartedAt = DateTime.UtcNow;

    public static string Directory { get; } = Environment.GetEnvironmentVariable("STRESS_REPORT_DIR") is { Length: > 0 } dir
        ? Path.GetFullPath(dir)
        : Path.Combine(Repo.Root, "stress-reports", StartedAt.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

    /// <summary>Adds a result, writes the one-line summary to the console and rewrites the report files.</summary>
    /// <param name="rewriteOnly">The result is in already and has changed: rewrite the files only.</param>
    public static void Add(ScenarioResult result, bool rewriteOnly = false)
    {
        if (!rewriteOnly) TestContext.Progress.WriteLine(result.Summary());
        lock (Gate)
        {
            if (!rewriteOnly) Results.Add(result);
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllText(Path.Combine(Directory, "summary.md"), Table(Results) + Environment.NewLine + CostTable.Markdown(Results));
            File.WriteAllText(Path.Combine(Directory, "report.md"), Markdown(Results));
            File.WriteAllText(Path.Combine(Directory, "report.html"), Html(Results));
        }
    }

    static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public static string Table(IEnumerable<ScenarioResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| scenario | load | ok | errors | calls/s | items/s | p50 ms | p99 ms | max ms | vs ceiling | notes |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
        foreach (var r in results)
        {
            var ratios = r.Ceilings.Count == 0 ? "" : string.Join("; ", r.Ceilings.Select(c => F($"{c.Ratio * 100:0}% of {c.Ceiling}")));
            sb.AppendLine(F($"| {r.Name} | {r.Load} | {r.Ok} | {r.Fail} | {r.Rate:0} | {r.ItemsRate:0} | {r.P(50):0.00} | {r.P(99):0.00} | {r.P(100):0.00} | {ratios} | {r.Headline} |"));
        }
        return sb.ToString();
    }

    static string Markdown(IReadOnlyList<ScenarioResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine(F($"# Stress run {StartedAt:u} on {Environment.MachineName} ({Environment.ProcessorCount} cores)"));
        sb.AppendLine();
        sb.AppendLine(Table(results));
        sb.AppendLine(CostTable.Markdown(results));
        foreach (var r in results)
        {
            sb.AppendLine(F($"## {r.Name}"));
            sb.AppendLine();
            sb.AppendLine(F($"Load: {r.Load}; warm-up {r.WarmUp.TotalSeconds:0.#} s excluded; measured {r.MeasuredTime.TotalSeconds:0.00} s."));
            sb.AppendLine();
            foreach (var line in Details(r)) sb.AppendLine("- " + line);
            sb.AppendLine();
        }
        return sb.ToString();
    }

    static IEnumerable<string> Details(ScenarioResult r)
    {
        yield return F($"calls: {r.Ok} ok, {r.Fail} failed ({r.FailRate * 100:0.00}%); {r.Rate:0.0} ok calls/s; {r.ItemsRate:0.0} items/s; {r.Bytes / 1048576.0:0.00} MiB");
        yield return F($"latency ms: p50 {r.P(50):0.00}, p75 {r.P(75):0.00}, p95 {r.P(95):0.00}, p99 {r.P(99):0.00}, p99.9 {r.P(99.9):0.00}, max {r.P(100):0.00} (mean {r.Latency.Mean / 1000:0.00})");
        yield return "status codes: " + (r.StatusCodes.Count == 0 ? "none" : string.Join(", ", r.StatusCodes.Select(c => $"{c.Key} ×{c.Value}")));
        foreach (var e in r.Errors.OrderByDescending(e => e.Value)) yield return $"error ×{e.Value}: {e.Key}";
        foreach (var (name, value) in r.Figures) yield return $"{name}: {value}";
        if (r.Cost is { } cost) foreach (var line in CostTable.Details(cost)) yield return line;
        foreach (var c in r.Ceilings) yield return F($"{c.Measured:0} {c.Unit} is {c.Ratio * 100:0.0}% of the {c.Ceiling} ceiling ({c.CeilingValue:0} {c.Unit})");
        foreach (var t in r.ThresholdOutcomes) yield return "threshold " + t;
    }

    static string Html(IReadOnlyList<ScenarioResult> results)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        sb.AppendLine("<!doctype html><html><head><meta charset=\"utf-8\"><title>Stress run</title><style>");
        sb.AppendLine("body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,td:nth-child(2){text-align:left}svg{background:#fafafa;margin:4px 12px 4px 0}");
        sb.AppendLine("</style></head><body>");
        sb.AppendLine(F($"<h1>Stress run {StartedAt:u}</h1><p>{E(Environment.MachineName)}, {Environment.ProcessorCount} cores. Latency of successful calls, from each call's intended start in the open model. Grey: warm-up, left out of the figures.</p>"));
        sb.AppendLine("<table><tr><th>scenario</th><th>load</th><th>ok</th><th>errors</th><th>calls/s</th><th>items/s</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>vs ceiling</th><th>notes</th></tr>");
        foreach (var r in results)
            sb.AppendLine(F($"<tr><td>{E(r.Name)}</td><td>{E(r.Load)}</td><td>{r.Ok}</td><td>{r.Fail}</td><td>{r.Rate:0}</td><td>{r.ItemsRate:0}</td><td>{r.P(50):0.00}</td><td>{r.P(99):0.00}</td><td>{r.P(100):0.00}</td><td>{E(string.Join("; ", r.Ceilings.Select(c => F($"{c.Ratio * 100:0}% of {c.Ceiling}"))))}</td><td>{E(r.Headline)}</td></tr>"));
        sb.AppendLine("</table>");
        sb.AppendLine(CostTable.Html(results));
        foreach (var r in results)
        {
            sb.AppendLine(F($"<h2>{E(r.Name)}</h2><p>{E(r.Load)}</p><ul>"));
            foreach (var line in Details(r)) sb.AppendLine($"<li>{E(line)}</li>");
            sb.AppendLine("</ul>");
            sb.AppendLine(SvgChart.Draw("latency (ms)", r.Timeline,
                ("p50", "#1f77b4", s => s.P50Ms), ("p99", "#ff7f0e", s => s.P99Ms), ("max", "#bbbbbb", s => s.MaxMs)));
            sb.AppendLine(SvgChart.Draw("calls/s", r.Timeline, ("ok", "#2ca02c", s => s.Ok), ("failed", "#d62728", s => s.Fail)));
        }
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }
}
