using System.Net;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>An API instance configured for two live-tail connections; a third client asks.</summary>
public sealed class When_more_clients_tail_than_allowed
{
    [Test]
    public async Task The_one_too_many_gets_429_and_the_others_keep_streaming()
    {
        var (source, writeKey, readKey) = await TestSources.CreateAsync();
        using var api = new ApiHost(new() { ["Ingest:Queries:MaxStreamConnections"] = "2" });
        using var http = await api.StartAsync(writeKey);
        await ReadSide.ReadKeyLoadedAsync(http, readKey);

        await using var first = await SseClient.OpenAsync("/v1/events/stream", readKey, api: http);
        await using var second = await SseClient.OpenAsync("/v1/events/stream?event=Capped", readKey, api: http);
        using (var third = await http.SendAsync(ReadSide.Get("/v1/events/stream", readKey, "text/event-stream"), HttpCompletionOption.ResponseHeadersRead))
        {
            var body = await third.Content.ReadAsStringAsync();
            Assert.That(third.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), body);
            Assert.That(third.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero));
            Assert.That(third.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(body, Does.Contain("Too many live-tail connections"));
        }

        var stored = StoredEvent.Track(source, "Capped", "u1", DateTime.UtcNow);
        await StoredEvent.InsertAsync([stored]);
        Assert.That((await first.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(stored.Id), "the first client streams on");
        Assert.That((await second.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(stored.Id), "the second client streams on");

        await first.DisposeAsync();
        await Eventually.HoldsAsync(async t =>
        {
            using var again = await http.SendAsync(ReadSide.Get("/v1/events/stream", readKey, "text/event-stream"), HttpCompletionOption.ResponseHeadersRead, t);
            return again.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(10), () => "a place to free up once a client leaves");
    }
}
