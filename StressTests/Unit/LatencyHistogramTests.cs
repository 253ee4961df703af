using StressTests.Runner;

namespace StressTests.Unit;

public sealed class LatencyHistogramTests
{
    [Test]
    public void Percentiles_of_a_uniform_distribution_are_within_the_stated_precision()
    {
        var histogram = new LatencyHistogram();
        for (var v = 1; v <= 100_000; v++) histogram.Record(v);

        foreach (var (percentile, exact) in new[] { (50.0, 50_000L), (75.0, 75_000L), (95.0, 95_000L), (99.0, 99_000L), (99.9, 99_900L) })
        {
            var reported = histogram.Percentile(percentile);
            Assert.That(reported, Is.InRange(exact, exact * (1 + LatencyHistogram.RelativePrecision)), $"p{percentile}");
        }
        Assert.That(histogram.Percentile(100), Is.EqualTo(100_000));
        Assert.That(histogram.Min, Is.EqualTo(1));
        Assert.That(histogram.Count, Is.EqualTo(100_000));
        Assert.That(histogram.Mean, Is.EqualTo(50_000.5).Within(1e-6));
    }

    [Test]
    public void Small_values_are_exact_and_large_ones_keep_their_relative_precision()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(3);
        Assert.That(histogram.Percentile(50), Is.EqualTo(3));

        foreach (var value in new[] { 255L, 256L, 1_000L, 123_456L, 30_000_000L, 86_400_000_000L })
        {
            var one = new LatencyHistogram();
            one.Record(value);
            one.Record(value + 1); // the max is exact; the p50 comes from the bucket
            Assert.That(one.Percentile(50), Is.InRange(value, value * (1 + LatencyHistogram.RelativePrecision)), $"value {value}");
        }
    }

    [Test]
    public void A_skewed_distribution_reports_its_tail()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 9_900; i++) histogram.Record(1_000);
        for (var i = 0; i < 100; i++) histogram.Record(500_000);

        Assert.That(histogram.Percentile(99), Is.InRange(1_000, 1_008));
        Assert.That(histogram.Percentile(99.5), Is.InRange(500_000, 504_000));
        Assert.That(histogram.CountAtOrAbove(400_000), Is.EqualTo(100));
    }

    [Test]
    public void An_empty_histogram_reports_zero()
    {
        var histogram = new LatencyHistogram();
        Assert.That(histogram.Percentile(99), Is.Zero);
        Assert.That(histogram.Count, Is.Zero);
    }
}
