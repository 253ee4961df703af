using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Privacy;

/// <summary>
/// An admin suppresses a user id and an anonymous id; their events keep coming through every way in (single, batch,
/// the seeds' /analytics, text/plain) and are answered 200, never published; another user's events in the same
/// requests are. Unsuppressed, they are published again.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_a_subject_is_suppressed : PrivacyTest
{
    [Test]
    public async Task Its_events_are_answered_200_and_never_published_until_it_is_unsuppressed()
    {
        var suppress = await Stack.RequestAsync("suppress", new { userId = "s-user" }, new { anonymousId = "s-anon" });
        var receipt = await Stack.DoneAsync(suppress);
        Assert.That(receipt.GetProperty("type").GetString(), Is.EqualTo("suppress"));
        await SuppressionTakenAsync(Stack);
        Assert.That((await Stack.SubjectAsync("userId", "s-user")).GetProperty("suppressed").GetBoolean(), Is.True);

        var responses = new[]
        {
            await Stack.SendAsync("/v1/track", new { userId = "s-user", @event = "Suppressed single" }),
            await Stack.SendAsync("/v1/track", new { anonymousId = "s-anon", @event = "Suppressed anonymous" }),
            await Stack.SendAsync("/v1/batch", new { batch = new object[]
            {
                new { type = "track", userId = "s-user", @event = "Suppressed in batch" },
                new { type = "identify", userId = "kept-user", traits = new { plan = "pro" } },
                new { type = "page", anonymousId = "s-anon", name = "Suppressed page" },
            } }),
            await Stack.SendAsync("/v1/t", JsonSerializer.Serialize(new { userId = "s-user", @event = "Suppressed beacon", writeKey = Stack.WriteKey }), "text/plain"),
            await Stack.Http.SendAsync(Legacy(Stack.WriteKey, "s-user")),
            await Stack.SendAsync("/v1/track", new { userId = "kept-user", @event = "Kept" }),
        };
        foreach (var response in responses)
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
            Assert.That((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("success").GetBoolean(), Is.True);
        }
        var published = await Stack.Api.EventsOnQueueAsync(2);
        Assert.That(published.Select(e => e.GetProperty("userId").GetString()), Is.EqualTo(new[] { "kept-user", "kept-user" }),
            "only the other user's events reach the broker");
        Assert.That((await Stack.Api.EventsOnQueueAsync(1, TimeSpan.FromSeconds(2))), Is.Empty, "and nothing else");

        var unsuppress = await Stack.RequestAsync("unsuppress", new { userId = "s-user" }, new { anonymousId = "s-anon" });
        await Stack.DoneAsync(unsuppress);
        await Eventually.HoldsAsync(async _ =>
        {
            using var again = await Stack.SendAsync("/v1/track", new { userId = "s-user", @event = "Back" });
            return (await Stack.Api.EventsOnQueueAsync(1, TimeSpan.FromMilliseconds(500))).Count == 1;
        }, TimeSpan.FromSeconds(15), () => "the user's events published again after unsuppress");
        Assert.That((await Stack.SubjectAsync("userId", "s-user")).GetProperty("suppressed").GetBoolean(), Is.False);
    }

    /// <summary>The API applies a suppression at its next refresh (every second in tests): it counts what it suppressed.</summary>
    static async Task SuppressionTakenAsync(PrivacyStack Stack)
    {
        await Eventually.HoldsAsync(async t =>
        {
            using var probe = await Stack.SendAsync("/v1/track", new { userId = "s-user", @event = "Probe" });
            return await Stack.SuppressedEventsAsync(t) > 0;
        }, TimeSpan.FromSeconds(15), () => "the API to suppress the user");
        await Stack.Api.DrainAsync(); // the probes sent before it took effect
    }

    static HttpRequestMessage Legacy(string writeKey, string pennkey) =>
        new(HttpMethod.Post, "/analytics")
        {
            Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", writeKey) },
            Content = JsonContent.Create(new { product = 1, pennkey, timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), data = new[] { new { key = "k", value = "v" } } }),
        };
}
