using System.Globalization;

namespace StressTests.Runner;

/// <summary>A bound on one figure of a run. A breached threshold fails the test with the figures in the message.</summary>
public sealed record Threshold(string Figure, Func<ScenarioResult, double> Measure, bool AtMost, double Bound, string Unit)
{
    public static Threshold Percentile(double percentile, TimeSpan under) =>
        new($"p{percentile.ToString(CultureInfo.InvariantCulture)}", r => r.P(percentile), true, under.TotalMilliseconds, "ms");

    public static Threshold FailRate(double under) => new("fail rate", r => r.FailRate, true, under, "");

    public static Threshold MinRate(double callsPerSecond) => new("calls/s", r => r.Rate, false, callsPerSecond, "/s");

    public static Threshold MinItemsRate(double itemsPerSecond) => new("items/s", r => r.ItemsRate, false, itemsPerSecond, "/s");

    public static Threshold MaxTime(TimeSpan under) => new("time", r => r.MeasuredTime.TotalSeconds, true, under.TotalSeconds, "s");

    public bool IsMet(ScenarioResult result)
    {
        var value = Measure(result);
        return AtMost ? value <= Bound : value >= Bound;
    }

    public string Describe(ScenarioResult result) => string.Create(CultureInfo.InvariantCulture,
        $"{Figure} {Measure(result):0.####}{Unit} (bound {(AtMost ? "≤" : "≥")} {Bound:0.####}{Unit}): {(IsMet(result) ? "met" : "BREACHED")}");

    /// <summary>Records every threshold's outcome on the result and returns the breached ones, described.</summary>
    public static IReadOnlyList<string> Check(ScenarioResult result, params Threshold[] thresholds)
    {
        var breached = new List<string>();
        foreach (var t in thresholds)
        {
            var line = t.Describe(result);
            result.ThresholdOutcomes.Add(line);
            if (!t.IsMet(result)) breached.Add(line);
        }
        return breached;
    }

    /// <summary>Checks the thresholds and fails the NUnit test when any is breached, naming the figures.</summary>
    public static void Assert(ScenarioResult result, params Threshold[] thresholds)
    {
        var breached = Check(result, thresholds);
        if (breached.Count > 0)
            NUnit.Framework.Assert.Fail($"{result.Name} breached {breached.Count} threshold(s): {string.Join("; ", breached)}\n{result.Summary()}");
    }
}
