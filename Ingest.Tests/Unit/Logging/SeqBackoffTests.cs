using Ingest.ServiceDefaults.Logging;
using Microsoft.AspNetCore.Http;

namespace Ingest.Tests.Unit.Logging;

public class When_seq_keeps_failing
{
    static readonly TimeSpan Period = TimeSpan.FromSeconds(2), Minimum = TimeSpan.FromSeconds(5), Maximum = TimeSpan.FromMinutes(10);

    [TestCase(0, 2)]
    [TestCase(1, 2)]
    [TestCase(2, 10)]
    [TestCase(3, 20)]
    [TestCase(4, 40)]
    [TestCase(7, 320)]
    [TestCase(8, 600)]
    [TestCase(30, 600)]
    public void The_retry_interval_doubles_from_the_larger_of_period_and_five_seconds_up_to_ten_minutes(int failures, int seconds) =>
        Assert.That(SeqBackoff.Next(failures, Period, Minimum, Maximum), Is.EqualTo(TimeSpan.FromSeconds(seconds)));

    [Test]
    public void A_period_longer_than_the_minimum_is_the_base_of_the_backoff() =>
        Assert.That(SeqBackoff.Next(3, TimeSpan.FromSeconds(30), Minimum, Maximum), Is.EqualTo(TimeSpan.FromMinutes(2)));
}

public class When_a_request_query_carries_a_write_key
{
    [TestCase("?writeKey=abc", null)]
    [TestCase("?WRITEKEY=abc&x=1", "?x=1")]
    [TestCase("?x=1&writeKey=abc&y=2", "?x=1&y=2")]
    [TestCase("?write%4Bey=abc&y=2", "?y=2")]
    [TestCase("?x=1", "?x=1")]
    [TestCase("", null)]
    public void The_write_key_is_stripped(string query, string? expected) =>
        Assert.That(RequestLogging.SafeQuery(new QueryString(query.Length == 0 ? null : query)), Is.EqualTo(expected));
}
