using HdrHistogram;

namespace StressTests.Runner;

/// <summary>
/// The latencies of a run (non-negative values, microseconds here) in an HdrHistogram with two significant digits:
/// values below 256 are exact; above, every power of two is split into 128 equal buckets. A reported percentile is the
/// upper edge of its bucket, so it is never below the true value and at most <see cref="RelativePrecision"/> (1/128,
/// under 0.8 %) above it. Fixed memory (about 40 KB) whatever the count, so one per second of a run is cheap. The
/// count, min, max and mean are kept exactly beside it. Not thread-safe: the caller locks.
/// </summary>
public sealed class LatencyHistogram
{
    const long Highest = (1L << 44) - 1; // about 200 days in µs: anything larger is clamped
    const int SignificantDigits = 2;

    public const double RelativePrecision = 1.0 / 128;

    readonly LongHistogram histogram = new(Highest, SignificantDigits);

    public long Count { get; private set; }
    public long Min { get; private set; } = long.MaxValue;
    public long Max { get; private set; }
    public double Sum { get; private set; }
    public double Mean => Count == 0 ? 0 : Sum / Count;

    public void Record(long value)
    {
        value = Math.Clamp(value, 0, Highest);
        histogram.RecordValue(value);
        Count++;
        Sum += value;
        if (value < Min) Min = value;
        if (value > Max) Max = value;
    }

    public void Add(LatencyHistogram other)
    {
        histogram.Add(other.histogram);
        Count += other.Count;
        Sum += other.Sum;
        if (other.Count > 0)
        {
            Min = Math.Min(Min, other.Min);
            Max = Math.Max(Max, other.Max);
        }
    }

    /// <summary>The value at or below which <paramref name="percentile"/> % of the recorded values lie (0 when empty).</summary>
    public long Percentile(double percentile)
    {
        if (Count == 0) return 0;
        if (percentile >= 100) return Max;
        return Math.Min(histogram.GetValueAtPercentile(percentile), Max);
    }

    /// <summary>The number of recorded values at or above <paramref name="value"/>, to bucket precision.</summary>
    public long CountAtOrAbove(long value)
    {
        var from = histogram.LowestEquivalentValue(Math.Clamp(value, 0, Highest));
        return histogram.RecordedValues().Where(v => v.ValueIteratedTo >= from).Sum(v => v.CountAddedInThisIterationStep);
    }
}
