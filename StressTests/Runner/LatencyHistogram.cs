namespace StressTests.Runner;

/// <summary>
/// A log-linear histogram of non-negative values (microseconds here), in the manner of HdrHistogram: values
/// below 256 have a bucket each; above, every power of two is split into 128 equal buckets. A reported
/// percentile is the upper edge of its bucket, so it is never below the true value and at most
/// <see cref="RelativePrecision"/> (1/128, under 0.8 %) above it. Fixed memory (about 45 KB) whatever the count.
/// Not thread-safe: the caller locks.
/// </summary>
public sealed class LatencyHistogram
{
    const int SubBuckets = 128;      // per power of two above the linear range
    const int LinearLimit = 2 * SubBuckets;
    const int MaxExponent = 44;      // 2^44 µs is about 200 days: anything larger is clamped

    public const double RelativePrecision = 1.0 / SubBuckets;

    readonly long[] counts = new long[LinearLimit + (MaxExponent - 7) * SubBuckets];

    public long Count { get; private set; }
    public long Min { get; private set; } = long.MaxValue;
    public long Max { get; private set; }
    public double Sum { get; private set; }
    public double Mean => Count == 0 ? 0 : Sum / Count;

    public void Record(long value)
    {
        value = Math.Clamp(value, 0, (1L << MaxExponent) - 1);
        counts[IndexOf(value)]++;
        Count++;
        Sum += value;
        if (value < Min) Min = value;
        if (value > Max) Max = value;
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < counts.Length; i++) counts[i] += other.counts[i];
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
        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank) return Math.Min(UpperEdgeOf(i), Max);
        }
        return Max;
    }

    /// <summary>The number of recorded values at or above <paramref name="value"/>, to bucket precision.</summary>
    public long CountAtOrAbove(long value)
    {
        long n = 0;
        for (var i = IndexOf(Math.Max(0, value)); i < counts.Length; i++) n += counts[i];
        return n;
    }

    static int IndexOf(long value)
    {
        if (value < LinearLimit) return (int)value;
        var shift = 63 - (int)long.LeadingZeroCount(value) - 7;    // keep the top 8 bits: 128..255
        var sub = (int)(value >> shift) - SubBuckets;           // 0..127
        return LinearLimit + (shift - 1) * SubBuckets + sub;
    }

    static long UpperEdgeOf(int index)
    {
        if (index < LinearLimit) return index;
        var shift = (index - LinearLimit) / SubBuckets + 1;
        var sub = (index - LinearLimit) % SubBuckets + SubBuckets;
        return ((long)(sub + 1) << shift) - 1;
    }
}
