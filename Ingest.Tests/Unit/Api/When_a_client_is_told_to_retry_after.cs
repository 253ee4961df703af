using Ingest.Api;
using Microsoft.AspNetCore.Http;

namespace Ingest.Tests.Unit.Api;

/// <summary>The Retry-After of every 429 and 503 (<see cref="RetryAfter"/>).</summary>
public sealed class When_a_client_is_told_to_retry_after
{
    static string Header(Action<HttpResponse> set)
    {
        var http = new DefaultHttpContext();
        set(http.Response);
        return http.Response.Headers.RetryAfter.ToString();
    }

    [Test]
    public void Configured_seconds_are_sent_as_they_are() => Assert.That(Header(r => RetryAfter.Set(r, 5)), Is.EqualTo("5"));

    [TestCase(1200, "2")]
    [TestCase(300, "1")]
    [TestCase(2000, "2")]
    [TestCase(0, "0")]
    public void A_wait_is_rounded_up_to_whole_seconds(int milliseconds, string expected) =>
        Assert.That(Header(r => RetryAfter.Set(r, TimeSpan.FromMilliseconds(milliseconds))), Is.EqualTo(expected));
}
