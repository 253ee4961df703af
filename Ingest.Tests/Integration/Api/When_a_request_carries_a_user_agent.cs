using System.Text.Json;
using Ingest.Api.Tracking;

namespace Ingest.Tests.Integration.Api;

public sealed class When_a_request_carries_a_user_agent : ApiTest
{
    const string Browser = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";

    async Task<JsonElement> PostAsync(object body, string userAgent)
    {
        var (status, answer) = await Api.PostFromAsync(null, "/v1/track", body, WriteKey, new() { ["User-Agent"] = userAgent });
        Assert.That(status, Is.EqualTo(200), answer);
        return (await Api.EventsOnQueueAsync(1)).Single();
    }

    [Test]
    public async Task It_fills_context_userAgent_when_the_message_has_none()
    {
        var e = await PostAsync(new { userId = "u1", @event = "Viewed" }, Browser);

        Assert.That(e.GetProperty("context").GetProperty("userAgent").GetString(), Is.EqualTo(Browser));
    }

    [Test]
    public async Task A_message_s_own_userAgent_is_kept()
    {
        var e = await PostAsync(new { userId = "u1", @event = "Viewed", context = new { userAgent = "MyApp/1.0 (iOS 18)" } }, "analytics-node/2.0");

        Assert.That(e.GetProperty("context").GetProperty("userAgent").GetString(), Is.EqualTo("MyApp/1.0 (iOS 18)"));
    }

    [Test]
    public async Task A_huge_header_is_cut_to_the_limit()
    {
        var e = await PostAsync(new { userId = "u1", @event = "Viewed" }, new string('x', 20_000));

        Assert.That(e.GetProperty("context").GetProperty("userAgent").GetString(), Is.EqualTo(new string('x', ClientContext.MaxUserAgentLength)));
    }

    [Test]
    public async Task A_message_that_the_user_agent_would_take_past_32_KB_is_refused_and_one_that_has_its_own_is_not()
    {
        var padding = new string('p', TrackingRequest.MaxMessageBytes - 200);
        var headers = new Dictionary<string, string> { ["User-Agent"] = new string('x', 5_000) };

        var (refused, problem) = await Api.PostFromAsync(null, "/v1/track", new { userId = "u1", @event = "Big", properties = new { padding } }, WriteKey, headers);
        var (accepted, answer) = await Api.PostFromAsync(null, "/v1/track", new { userId = "u1", @event = "Big", context = new { userAgent = "own" }, properties = new { padding } }, WriteKey, headers);

        Assert.That(refused, Is.EqualTo(413), problem);
        Assert.That(problem, Does.Contain("userAgent"));
        Assert.That(accepted, Is.EqualTo(200), answer);
        Assert.That(await Api.EventsOnQueueAsync(1), Has.Count.EqualTo(1));
    }
}
