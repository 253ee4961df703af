using System.Net;
using System.Text.Json;

namespace Ingest.Tests.Integration.Api;

public sealed class When_valid_events_are_posted : ApiTest
{
    static object Body(string type) => type switch
    {
        "track" => new { userId = "u1", @event = "Signed Up", properties = new { plan = "pro" } },
        "identify" => new { userId = "u1", traits = new { email = "u1@example.com" } },
        "page" => new { anonymousId = "a1", name = "Home", properties = new { path = "/" } },
        "screen" => new { userId = "u1", name = "Settings" },
        "group" => new { userId = "u1", groupId = "g1", traits = new { name = "Acme" } },
        "alias" => new { userId = "u1", previousId = "a1" },
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    [TestCase("/v1/track", "track")]
    [TestCase("/v1/identify", "identify")]
    [TestCase("/v1/page", "page")]
    [TestCase("/v1/screen", "screen")]
    [TestCase("/v1/group", "group")]
    [TestCase("/v1/alias", "alias")]
    [TestCase("/v1/t", "track")]
    [TestCase("/v1/i", "identify")]
    [TestCase("/v1/p", "page")]
    [TestCase("/v1/s", "screen")]
    [TestCase("/v1/g", "group")]
    [TestCase("/v1/a", "alias")]
    public async Task Each_call_answers_success_and_its_event_is_on_the_queue_with_the_key_s_source(string path, string type)
    {
        var messageId = Guid.NewGuid().ToString();
        var body = JsonSerializer.SerializeToElement(Body(type));
        var withId = JsonSerializer.Serialize(new Dictionary<string, object> { ["messageId"] = messageId, ["sourceId"] = "spoofed" }
            .Concat(body.EnumerateObject().ToDictionary(p => p.Name, p => (object)p.Value)).ToDictionary());

        using var response = await Client.SendAsync(ApiHost.Post(path, withId, WriteKey));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"success":true}"""));
        var events = await Api.EventsOnQueueAsync(1);
        Assert.That(events, Has.Count.EqualTo(1));
        Assert.That(events[0].GetProperty("messageId").GetString(), Is.EqualTo(messageId));
        Assert.That(events[0].GetProperty("type").GetString(), Is.EqualTo(type));
        Assert.That(events[0].GetProperty("sourceId").GetString(), Is.EqualTo(SourceId), "the source comes from the key, not the payload");
    }

    [Test]
    public async Task The_timestamp_on_the_queue_is_corrected_for_the_client_s_clock()
    {
        // The client's clock is 3 days behind: it says it sent the request 5 s after the event happened.
        var clientNow = DateTimeOffset.UtcNow.AddDays(-3);
        var before = DateTimeOffset.UtcNow;
        using var response = await Client.SendAsync(ApiHost.Track(WriteKey, new
        {
            userId = "u1", @event = "Skewed", timestamp = clientNow.AddSeconds(-5).ToString("O"), sentAt = clientNow.ToString("O"),
        }));
        var after = DateTimeOffset.UtcNow;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var e = (await Api.EventsOnQueueAsync(1)).Single();
        var receivedAt = e.GetProperty("receivedAt").GetDateTimeOffset();
        Assert.That(receivedAt, Is.InRange(before, after));
        Assert.That(e.GetProperty("timestamp").GetDateTimeOffset(), Is.EqualTo(receivedAt.AddSeconds(-5)));
        Assert.That(e.GetProperty("originalTimestamp").GetDateTimeOffset(), Is.EqualTo(clientNow.AddSeconds(-5)).Within(TimeSpan.FromMilliseconds(1)));
    }

    [Test]
    public async Task A_timestamp_more_than_a_day_ahead_is_clamped_to_receivedAt_and_flagged()
    {
        using var response = await Client.SendAsync(ApiHost.Track(WriteKey, new { userId = "u1", @event = "Future", timestamp = DateTimeOffset.UtcNow.AddDays(3).ToString("O") }));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var e = (await Api.EventsOnQueueAsync(1)).Single();
        Assert.That(e.GetProperty("timestamp").GetDateTimeOffset(), Is.EqualTo(e.GetProperty("receivedAt").GetDateTimeOffset()));
        Assert.That(e.GetProperty("timestampClamped").GetBoolean(), Is.True);
    }

    [Test]
    public async Task A_batch_puts_every_message_on_the_queue_with_the_batch_s_context_and_sentAt()
    {
        var items = Enumerable.Range(0, 100).Select(i => (object)new { type = "track", userId = $"u{i}", @event = "Viewed", messageId = $"m-{Guid.NewGuid()}" }).ToList();
        items.Add(new { type = "identify", userId = "u1", traits = new { plan = "pro" } });

        using var response = await Client.SendAsync(ApiHost.Post("/v1/batch", new { batch = items, context = new { library = new { name = "analytics-node" } }, sentAt = DateTimeOffset.UtcNow.ToString("O") }, WriteKey));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var events = await Api.EventsOnQueueAsync(101);
        Assert.That(events, Has.Count.EqualTo(101));
        Assert.That(events.Select(e => e.GetProperty("context").GetProperty("library").GetProperty("name").GetString()), Is.All.EqualTo("analytics-node"));
        Assert.That(events.Select(e => e.GetProperty("messageId").GetString()).Distinct().Count(), Is.EqualTo(101), "a generated messageId is unique");
    }

    [TestCase("/analytics")]
    [TestCase("/analytics/")]
    public async Task The_seeds_format_becomes_one_track_event_per_item(string path)
    {
        using var request = ApiHost.Post(path, new { product = 3, pennkey = "alice", timestamp = 1_763_800_000, data = new object[] { new { key = "notebook.open", value = "nb1" }, new { key = "notebook.close", value = "nb1", timestamp = 1_763_800_100.5 } } });
        request.Headers.Authorization = new("Bearer", WriteKey);

        using var response = await Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var events = (await Api.EventsOnQueueAsync(2)).OrderBy(e => e.GetProperty("timestamp").GetDateTimeOffset()).ToList();
        Assert.That(events.Select(e => e.GetProperty("event").GetString()), Is.EqualTo(new[] { "notebook.open", "notebook.close" }));
        Assert.That(events.Select(e => e.GetProperty("userId").GetString()), Is.All.EqualTo("alice"));
        Assert.That(events.Select(e => e.GetProperty("properties").GetProperty("value").GetString()), Is.All.EqualTo("nb1"));
        Assert.That(events[0].GetProperty("timestamp").GetDateTimeOffset(), Is.EqualTo(DateTimeOffset.FromUnixTimeSeconds(1_763_800_000)));
        Assert.That(events[1].GetProperty("timestamp").GetDateTimeOffset(), Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(1_763_800_100_500)));
    }

    [Test]
    public async Task Every_way_Segment_clients_send_the_write_key_is_accepted()
    {
        var body = new { userId = "u1", @event = "Keyed" };
        using var basic = ApiHost.Track(WriteKey, body);
        using var bearer = ApiHost.Post("/v1/track", body);
        bearer.Headers.Authorization = new("Bearer", WriteKey);
        using var inBody = ApiHost.Post("/v1/t", new { userId = "u1", @event = "Keyed", writeKey = WriteKey }, contentType: "text/plain");
        using var inQuery = ApiHost.Post($"/v1/t?writeKey={WriteKey}", body, contentType: "text/plain");

        foreach (var request in new[] { basic, bearer, inBody, inQuery })
        {
            using var response = await Client.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"{request.RequestUri}: {await response.Content.ReadAsStringAsync()}");
        }
        Assert.That(await Api.EventsOnQueueAsync(4), Has.Count.EqualTo(4));
    }

    [Test]
    public async Task Health_and_the_OpenAPI_document_answer()
    {
        using var ready = await Client.GetAsync("/health/ready");
        using var live = await Client.GetAsync("/health/live");
        var readyBody = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        var openApi = await Client.GetStringAsync("/openapi/v1.json");

        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(readyBody.GetProperty("service").GetString(), Is.EqualTo("ingest-api"));
        Assert.That(readyBody.GetProperty("host").GetString(), Is.EqualTo(Environment.MachineName));
        Assert.That(readyBody.GetProperty("version").GetString(), Is.Not.Empty);
        Assert.That(openApi, Does.Contain("/v1/track").And.Contain("/v1/batch").And.Contain("/analytics"));
    }
}
