using System.ComponentModel.DataAnnotations;
using Ingest.Worker.Persistence;

namespace Ingest.Tests.Unit.Worker;

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
