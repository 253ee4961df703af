using Ingest.Worker.Persistence;
using Microsoft.Extensions.Options;

namespace Ingest.Tests.Unit.Worker;

public sealed class When_peak_hours_are_set
{
    static WriteRateLimiter Limiter(ManualClock clock, params string[] windows) => new(Options.Create(new WorkerOptions
    {
        MaxEventsPerSecond = 10_000,
        PeakHours = [.. windows],
        PeakMaxEventsPerSecond = 100,
    }), clock);

    [TestCase(7, 59, 10_000)]
    [TestCase(8, 0, 100)]
    [TestCase(17, 59, 100)]
    [TestCase(18, 0, 10_000)]
    public void The_lower_cap_applies_inside_the_window_only(int hour, int minute, double expected)
    {
        var clock = new ManualClock(ManualClock.At(hour, minute));

        Assert.That(Limiter(clock, "08:00-18:00").CapAt(clock.GetLocalNow()), Is.EqualTo(expected));
    }

    [TestCase(23, 30, 100)]
    [TestCase(1, 59, 100)]
    [TestCase(2, 0, 10_000)]
    [TestCase(21, 0, 10_000)]
    public void A_window_may_wrap_midnight(int hour, int minute, double expected)
    {
        var clock = new ManualClock(ManualClock.At(hour, minute));

        Assert.That(Limiter(clock, "22:00-02:00").CapAt(clock.GetLocalNow()), Is.EqualTo(expected));
    }

    [Test]
    public void Batches_are_paced_at_the_peak_cap_during_the_window()
    {
        var clock = new ManualClock(ManualClock.At(9, 0));
        var limiter = Limiter(clock, "08:00-18:00");

        limiter.Reserve(100);

        Assert.That(limiter.Reserve(100), Is.EqualTo(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public void The_window_is_read_in_local_time()
    {
        var plusTwo = TimeZoneInfo.CreateCustomTimeZone("UTC+2", TimeSpan.FromHours(2), "UTC+2", "UTC+2");
        var limiter = new WriteRateLimiter(Options.Create(new WorkerOptions
        {
            MaxEventsPerSecond = 10_000,
            PeakHours = ["08:00-18:00"],
            PeakMaxEventsPerSecond = 100,
        }), new ZonedClock(ManualClock.At(6, 30), plusTwo)); // 06:30 UTC is 08:30 local: peak

        limiter.Reserve(100);

        Assert.That(limiter.Reserve(100), Is.EqualTo(TimeSpan.FromSeconds(1)), "paced at the peak cap of 100 events/s");
    }

    sealed class ZonedClock(DateTimeOffset now, TimeZoneInfo zone) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
        public override TimeZoneInfo LocalTimeZone => zone;
    }
}
