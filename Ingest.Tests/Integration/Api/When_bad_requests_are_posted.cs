using System.Net;
using System.Text.Json;
using Ingest.Database.Keys;

namespace Ingest.Tests.Integration.Api;

public sealed class When_bad_requests_are_posted
{
    ApiHost _api = null!;
    HttpClient _client = null!;
    string _source = null!, _key = null!, _readKey = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        (_source, _key, _readKey) = await TestSources.CreateAsync(origins: ["https://shop.example"]);
        _api = new ApiHost(new() { [$"Ingest:RateLimit:Sources:{_source}-limited"] = "5" });
        _client = await _api.StartAsync(_key);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _client.Dispose();
        _api.Dispose();
    }

    [TearDown]
    public async Task NothingRejectedReachedTheQueue()
    {
        if (TestContext.CurrentContext.Test.Properties.ContainsKey("AcceptsSome")) return;
        Assert.That(await _api.DrainAsync(), Is.Empty, "a refused request put nothing on the broker");
    }

    async Task<(HttpStatusCode Status, JsonElement Problem)> Send(HttpRequestMessage request)
    {
        using var response = await _client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement);
    }

    static string Errors(JsonElement problem) => problem.GetProperty("errors").ToString();

    [TestCase("""{"event":"No user"}""", "userId", "userId or anonymousId is required")]
    [TestCase("""{"userId":"u1"}""", "event", "is required for a track call")]
    [TestCase("""{"userId":"u1","event":"E","timestamp":"yesterday"}""", "timestamp", "ISO-8601")]
    [TestCase("""{"userId":"u1","event":"E","properties":[1,2]}""", "properties", "must be a JSON object")]
    [TestCase("""{"userId":{"id":1},"event":"E"}""", "userId", "must be a string")]
    [TestCase("""{"userId":"u1","event":"E","properties":{"note":"a\u0000b"}}""", "properties.note", "NUL character")]
    public async Task An_invalid_message_gets_400_naming_the_field_and_the_reason(string body, string field, string reason)
    {
        var (status, problem) = await Send(ApiHost.Post("/v1/track", body, _key));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("errors").GetProperty(field).ToString(), Does.Contain(reason));
        Assert.That(problem.GetProperty("traceId").GetString(), Is.Not.Empty);
    }

    [Test, Property("AcceptsSome", "yes")]
    public async Task A_batch_with_bad_messages_accepts_the_good_ones_and_lists_the_bad_by_index()
    {
        var good = Enumerable.Range(0, 3).Select(i => new { type = "track", userId = "u", @event = "Good", messageId = $"good-{i}-{Guid.NewGuid()}" }).ToArray();
        var batch = new object[] { good[0], new { type = "track", userId = "u" }, good[1], new { type = "teleport", userId = "u" }, good[2] };

        var (status, problem) = await Send(ApiHost.Post("/v1/batch", new { batch }, _key));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("accepted").GetInt32(), Is.EqualTo(3));
        Assert.That(problem.GetProperty("errors").GetProperty("batch[1].event").ToString(), Does.Contain("required"));
        Assert.That(problem.GetProperty("errors").GetProperty("batch[3].type").ToString(), Does.Contain("teleport"));
        var queued = await _api.EventsOnQueueAsync(3);
        Assert.That(queued.Select(e => e.GetProperty("messageId").GetString()), Is.EquivalentTo(good.Select(g => g.messageId)));
    }

    [Test]
    public async Task Malformed_json_gets_400()
    {
        var (status, problem) = await Send(ApiHost.Post("/v1/track", """{"userId": "u1", """, _key));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("not valid JSON"));
    }

    [Test]
    public async Task Json_nested_deeper_than_32_gets_400_saying_so()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 33)) + "1" + new string('}', 33);
        var (status, problem) = await Send(ApiHost.Post("/v1/track", $$"""{"userId":"u1","event":"E","properties":{{deep}}}""", _key));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("deeper than 32"));
    }

    [Test]
    public async Task A_message_over_32_KB_gets_413()
    {
        var (status, problem) = await Send(ApiHost.Track(_key, new { userId = "u1", @event = "Big", properties = new { blob = new string('x', 33 * 1024) } }));

        Assert.That(status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("32 KB"));
    }

    [Test]
    public async Task A_batch_over_500_KB_gets_413()
    {
        var batch = Enumerable.Range(0, 20).Select(_ => new { type = "track", userId = "u", @event = "E", properties = new { blob = new string('x', 30 * 1024) } });
        var (status, problem) = await Send(ApiHost.Post("/v1/batch", new { batch }, _key));

        Assert.That(status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("500 KB"));
    }

    [Test]
    public async Task A_batch_of_more_than_2500_messages_gets_413()
    {
        var batch = Enumerable.Range(0, 2501).Select(_ => new { type = "track", userId = "u", @event = "E" });
        var (status, problem) = await Send(ApiHost.Post("/v1/batch", new { batch }, _key));

        Assert.That(status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("2501 messages"));
    }

    [Test]
    public async Task A_message_over_32_KB_inside_a_batch_is_rejected_alone()
    {
        var batch = new object[] { new { type = "track", userId = "u", @event = "Big", properties = new { blob = new string('x', 33 * 1024) } } };
        var (status, problem) = await Send(ApiHost.Post("/v1/batch", new { batch }, _key));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("errors").GetProperty("batch[0]").ToString(), Does.Contain("32 KB"));
    }

    [TestCase("multipart/form-data")]
    [TestCase("application/xml")]
    public async Task A_wrong_content_type_gets_415(string contentType)
    {
        var (status, problem) = await Send(ApiHost.Post("/v1/track", """{"userId":"u1","event":"E"}""", _key, contentType));

        Assert.That(status, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(contentType));
    }

    [Test]
    public async Task A_form_body_declared_as_a_form_gets_400_as_it_is_not_json()
    {
        // The type is accepted because RudderStack's Node SDK declares its gzipped JSON so; the body must still be JSON.
        var (status, problem) = await Send(ApiHost.Post("/v1/track", "userId=u1&event=E", _key, "application/x-www-form-urlencoded"));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("not valid JSON"));
    }

    [Test]
    public async Task A_missing_key_gets_401()
    {
        var (status, problem) = await Send(ApiHost.Post("/v1/track", new { userId = "u1", @event = "E" }));

        Assert.That(status, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Missing write key"));
    }

    [Test]
    public async Task An_unknown_key_gets_401()
    {
        var (status, problem) = await Send(ApiHost.Track("wk_not-a-real-key", new { userId = "u1", @event = "E" }));

        Assert.That(status, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Unknown write key"));
    }

    [Test]
    public async Task A_read_key_cannot_write()
    {
        var (status, problem) = await Send(ApiHost.Track(_readKey, new { userId = "u1", @event = "E" }));

        Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("read key"));
    }

    [Test]
    public async Task A_revoked_key_is_refused_within_the_refresh_interval()
    {
        var (_, key, _) = await TestSources.CreateAsync();
        await Eventually.HoldsAsync(async _ => (await Send(ApiHost.Track(key, new { userId = "u1", @event = "E" }))).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(5), () => "the new key to be loaded");
        await _api.DrainAsync();

        await KeyRecords.RevokeAsync(TestStack.Database, key, CancellationToken.None);
        var revokedAt = DateTime.UtcNow;
        await Eventually.HoldsAsync(async _ => (await Send(ApiHost.Track(key, new { userId = "u1", @event = "E" }))).Status == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(5), () => "the revoked key to be refused");

        Assert.That(DateTime.UtcNow - revokedAt, Is.LessThan(TimeSpan.FromSeconds(1 + 2)), "refresh interval 1 s, plus a margin for a loaded machine");
        await _api.DrainAsync();
    }

    [Test]
    public async Task Past_the_source_s_rate_limit_the_answer_is_429_with_Retry_After()
    {
        // A source limited to 5 events a second, burst 2 s = at least 2500 tokens (a whole batch): spend them, then one more.
        var limited = $"{_source}-limited";
        await KeyRecords.AddSourceAsync(TestStack.Database, limited, limited, [], CancellationToken.None);
        var key = await KeyRecords.CreateKeyAsync(TestStack.Database, limited, "write", CancellationToken.None);
        var batch = Enumerable.Range(0, 2500).Select(_ => new { type = "track", userId = "u", @event = "E" });
        await Eventually.HoldsAsync(async _ => (await Send(ApiHost.Post("/v1/batch", new { batch }, key))).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(5), () => "the first batch within the burst");

        using var response = await _client.SendAsync(ApiHost.Track(key, new { userId = "u1", @event = "One too many" }));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain(limited));
        Assert.That(await _api.EventsOnQueueAsync(2500), Has.Count.EqualTo(2500), "the batch within the limit was accepted");
    }

    [Test]
    public async Task A_preflight_is_answered_for_any_origin()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/v1/t");
        request.Headers.Add("Origin", "https://anywhere.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");

        using var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "https://anywhere.example" }));
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Methods").Single(), Does.Contain("POST"));
    }

    [Test, Property("AcceptsSome", "yes")]
    public async Task A_browser_post_from_an_allowed_origin_is_accepted_and_others_get_403()
    {
        using var allowed = ApiHost.Post("/v1/t", new { userId = "u1", @event = "E", writeKey = _key }, contentType: "text/plain");
        allowed.Headers.Add("Origin", "https://shop.example");
        using var other = ApiHost.Post("/v1/t", new { userId = "u1", @event = "E", writeKey = _key }, contentType: "text/plain");
        other.Headers.Add("Origin", "https://evil.example");

        using var ok = await _client.SendAsync(allowed);
        using var refused = await _client.SendAsync(other);

        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ok.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "https://shop.example" }));
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("https://evil.example"));
        Assert.That(await _api.EventsOnQueueAsync(1), Has.Count.EqualTo(1), "only the allowed origin's event");
    }
}
