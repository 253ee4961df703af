using System.ComponentModel.DataAnnotations;
using Ingest.Worker.Persistence;
using Microsoft.Extensions.Options;

namespace Ingest.Tests.Unit.Worker;

/// <summary>A clock the test moves by hand; local time is UTC here, so local windows read as the UTC time.</summary>
sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}

public sealed class When_no_cap_is_set
{
    [Test]
    public void Batches_never_wait()
    {
        var limiter = new WriteRateLimiter(Options.Create(new WorkerOptions()), new ManualClock(At(12, 0)));

        Assert.That(Enumerable.Range(0, 5).Select(_ => limiter.Reserve(10_000)), Is.All.EqualTo(TimeSpan.Zero));
    }

    internal static DateTimeOffset At(int hour, int minute) => new(2026, 11, 23, hour, minute, 0, TimeSpan.Zero);
}

public sealed class When_a_cap_of_events_per_second_is_set
{
    [Test]
    public void Each_batch_waits_for_the_time_the_previous_ones_reserved()
    {
        var clock = new ManualClock(When_no_cap_is_set.At(12, 0));
        var limiter = new WriteRateLimiter(Options.Create(new WorkerOptions { MaxEventsPerSecond = 1000 }), clock);

        var delays = new[] { limiter.Reserve(500), limiter.Reserve(500), limiter.Reserve(1000) };

        Assert.That(delays, Is.EqualTo(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1) }));
    }

    [Test]
    public void Time_that_passed_idle_is_not_saved_up_as_a_burst()
    {
        var clock = new ManualClock(When_no_cap_is_set.At(12, 0));
        var limiter = new WriteRateLimiter(Options.Create(new WorkerOptions { MaxEventsPerSecond = 100 }), clock);
        limiter.Reserve(100);

        clock.Now += TimeSpan.FromMinutes(10);

        Assert.That(limiter.Reserve(100), Is.EqualTo(TimeSpan.Zero));
        Assert.That(limiter.Reserve(100), Is.EqualTo(TimeSpan.FromSeconds(1)), "the next batch waits again");
    }
}

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
        var clock = new ManualClock(When_no_cap_is_set.At(hour, minute));

        Assert.That(Limiter(clock, "08:00-18:00").CapAt(clock.GetLocalNow()), Is.EqualTo(expected));
    }

    [TestCase(23, 30, 100)]
    [TestCase(1, 59, 100)]
    [TestCase(2, 0, 10_000)]
    [TestCase(21, 0, 10_000)]
    public void A_window_may_wrap_midnight(int hour, int minute, double expected)
    {
        var clock = new ManualClock(When_no_cap_is_set.At(hour, minute));

        Assert.That(Limiter(clock, "22:00-02:00").CapAt(clock.GetLocalNow()), Is.EqualTo(expected));
    }

    [Test]
    public void Batches_are_paced_at_the_peak_cap_during_the_window()
    {
        var clock = new ManualClock(When_no_cap_is_set.At(9, 0));
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
        }), new ZonedClock(When_no_cap_is_set.At(6, 30), plusTwo)); // 06:30 UTC is 08:30 local: peak

        limiter.Reserve(100);

        Assert.That(limiter.Reserve(100), Is.EqualTo(TimeSpan.FromSeconds(1)), "paced at the peak cap of 100 events/s");
    }

    sealed class ZonedClock(DateTimeOffset now, TimeZoneInfo zone) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
        public override TimeZoneInfo LocalTimeZone => zone;
    }
}

public sealed class When_worker_options_are_validated
{
    static List<ValidationResult> Validate(WorkerOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    [Test]
    public void The_defaults_are_valid() => Assert.That(Validate(new WorkerOptions()), Is.Empty);

    [TestCase("8-18")]
    [TestCase("08:00")]
    [TestCase("25:00-26:00")]
    [TestCase("08:00-08:00")]
    public void A_malformed_peak_window_is_refused_by_name(string window)
    {
        var results = Validate(new WorkerOptions { PeakHours = [window], PeakMaxEventsPerSecond = 10 });

        Assert.That(results.Select(r => r.ErrorMessage), Has.Some.Contains("PeakHours").And.Some.Contains(window));
    }

    [Test]
    public void Peak_hours_without_a_peak_cap_are_refused() =>
        Assert.That(Validate(new WorkerOptions { PeakHours = ["08:00-18:00"] }).Select(r => r.ErrorMessage), Has.Some.Contains("PeakMaxEventsPerSecond"));

    [Test]
    public void A_prefetch_too_small_to_fill_the_batches_is_refused() =>
        Assert.That(Validate(new WorkerOptions { MessageLimit = 100, ConcurrencyLimit = 2, PrefetchCount = 150 }).Select(r => r.ErrorMessage),
            Has.Some.Contains("PrefetchCount"));

    [Test]
    public void A_release_that_comes_before_the_stop_timeout_is_refused() =>
        Assert.That(Validate(new WorkerOptions { ReleaseAfter = TimeSpan.FromSeconds(10), ConsumerStopTimeout = TimeSpan.FromSeconds(10) }).Select(r => r.ErrorMessage),
            Has.Some.Contains("ReleaseAfter"));

    [Test]
    public void A_release_after_more_than_an_hour_is_refused() =>
        Assert.That(Validate(new WorkerOptions { ReleaseAfter = TimeSpan.FromHours(2) }).SelectMany(r => r.MemberNames), Does.Contain(nameof(WorkerOptions.ReleaseAfter)));

    [Test]
    public void A_message_limit_out_of_range_is_refused() =>
        Assert.That(Validate(new WorkerOptions { MessageLimit = 0 }).SelectMany(r => r.MemberNames), Does.Contain(nameof(WorkerOptions.MessageLimit)));
}
