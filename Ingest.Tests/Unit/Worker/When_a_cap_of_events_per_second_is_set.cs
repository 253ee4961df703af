using Ingest.Worker.Persistence;
using Microsoft.Extensions.Options;

namespace Ingest.Tests.Unit.Worker;

public sealed class When_a_cap_of_events_per_second_is_set
{
    [Test]
    public void Each_batch_waits_for_the_time_the_previous_ones_reserved()
    {
        var clock = new ManualClock(ManualClock.At(12, 0));
        var limiter = new WriteRateLimiter(Options.Create(new WorkerOptions { MaxEventsPerSecond = 1000 }), clock);

        var delays = new[] { limiter.Reserve(500), limiter.Reserve(500), limiter.Reserve(1000) };

        Assert.That(delays, Is.EqualTo(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1) }));
    }

    [Test]
    public void Time_that_passed_idle_is_not_saved_up_as_a_burst()
    {
        var clock = new ManualClock(ManualClock.At(12, 0));
        var limiter = new WriteRateLimiter(Options.Create(new WorkerOptions { MaxEventsPerSecond = 100 }), clock);
        limiter.Reserve(100);

        clock.Now += TimeSpan.FromMinutes(10);

        Assert.That(limiter.Reserve(100), Is.EqualTo(TimeSpan.Zero));
        Assert.That(limiter.Reserve(100), Is.EqualTo(TimeSpan.FromSeconds(1)), "the next batch waits again");
    }
}
