using System.Globalization;

namespace StressTests.Runner;

/// <summary>The figures of one scenario run, warm-up excluded (the timeline keeps every second, warm-up marked).</summary>
public sealed class ScenarioResult
{
    public required string Name { get; init; }
    public required string Load { get; init; }
    public required TimeSpan WarmUp { get; init; }

    /// <summary>From the end of warm-up to the last measured call's completion.</summary>
    public required TimeSpan MeasuredTime { get; init; }

    public required long Ok { get; init; }
    public required long Fail { get; init; }
    public required long Bytes { get; init; }
    public required long Items { get; init; }
    public required IReadOnlyDictionary<int, long> StatusCodes { get; init; }
    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    /// <summary>Latency of the successful calls, in microseconds.</summary>
    public required LatencyHistogram Latency { get; init; }

    public required IReadOnlyList<TimelineSecond> Timeline { get; init; }

    /// <summary>Figures a scenario adds after its run (events stored/s, lag…), shown in the reports.</summary>
    public List<(string Name, string Value)> Figures { get; } = [];

    /// <summary>The one figure a scenario is about beyond calls and latency (stored events/s, lag…), for the table.</summary>
    public string Headline { get; set; } = "";

    /// <summary>This run's figures as fractions of the ceilings measured in the same run.</summary>
    public List<CeilingComparison> Ceilings { get; } = [];

    /// <summary>The CPU time of the loaded processes at the start and end of the measured window, when the runner metered them.</summary>
    public Cost.CpuWindow? Cpu { get; set; }

    /// <summary>The CPU per event by process and the batching, worked out from <see cref="Cpu"/> by the scenario.</summary>
    public Cost.ScenarioCost? Cost { get; set; }

    /// <summary>Each threshold with its outcome, filled by <see cref="Threshold.Check"/>.</summary>
    public List<string> ThresholdOutcomes { get; } = [];

    public long Calls => Ok + Fail;
    public double Seconds => Math.Max(MeasuredTime.TotalSeconds, 1e-6);
    public double Rate => Ok / Seconds;
    public double ItemsRate => Items / Seconds;
    public double FailRate => Calls == 0 ? 0 : (double)Fail / Calls;
    public double P(double percentile) => Latency.Percentile(percentile) / 1000.0;

    public void CompareWith(string ceiling, string unit, double measured, double ceilingValue) =>
        Ceilings.Add(new CeilingComparison(ceiling, unit, measured, ceilingValue));

    public string Summary()
    {
        var codes = string.Join(" ", StatusCodes.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"));
        var errors = Errors.Count == 0 ? "" : "; errors: " + string.Join("; ", Errors.OrderByDescending(e => e.Value).Take(3).Select(e => $"{e.Key} ×{e.Value}"));
        var ratios = Ceilings.Count == 0 ? "" : "; " + string.Join(", ", Ceilings.Select(c => $"{c.Ratio * 100:0}% of {c.Ceiling}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {Ok} ok, {Fail} fail in {MeasuredTime.TotalSeconds:0.00} s, {Rate:0} calls/s, {ItemsRate:0} items/s, " +
            $"p50 {P(50):0.00} p99 {P(99):0.00} max {P(100):0.00} ms; codes {codes}{errors}{ratios}");
    }
}

/// <param name="Second">Seconds from the start of the run, by completion time.</param>
/// <param name="P50Ms">Latency of that second's successful calls (0 when none).</param>
public sealed record TimelineSecond(int Second, bool WarmUp, long Ok, long Fail, long Items, double P50Ms, double P99Ms, double MaxMs);

public sealed record CeilingComparison(string Ceiling, string Unit, double Measured, double CeilingValue)
{
    public double Ratio => CeilingValue <= 0 ? 0 : Measured / CeilingValue;
}
