using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// Write keys live in browsers: anyone can send anything. Each request gets its own answer, a 4xx names what is wrong,
/// and nothing one request holds can fail, enlarge or duplicate another's events (issue 10).
/// </summary>
public sealed class When_hostile_input_is_posted : ApiTest
{
    [SetUp]
    public async Task EmptyQueue() => await Api.DrainAsync();

    HttpRequestMessage Raw(string path, byte[] body, string? encoding = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (encoding is not null) request.Content.Headers.ContentEncoding.Add(encoding);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
        return request;
    }

    async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpRequestMessage request)
    {
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    static string Field(JsonElement problem, string field) =>
        problem.GetProperty("errors").TryGetProperty(field, out var reasons) ? reasons.ToString() : $"(no error for {field} in {problem})";

    /// <summary>A property that passes the old checks but cannot be serialized or stored, in value or name.</summary>
    static readonly object[] Unstorable =
    [
        new object[] { """{"userId":"u","event":"E","properties":{"note":"a\ud800b"}}"""u8.ToArray(), "properties.note", "lone UTF-16 surrogate" },
        new object[] { """{"userId":"u","event":"E","properties":{"\udc00":1}}"""u8.ToArray(), "properties.(name)", "lone UTF-16 surrogate" },
        new object[] { """{"userId":"u\ud800","event":"E"}"""u8.ToArray(), "userId", "lone UTF-16 surrogate" },
        new object[] { """{"userId":"u","event":"E\udfff"}"""u8.ToArray(), "event", "lone UTF-16 surrogate" },
        new object[] { """{"userId":"u","event":"E","messageId":"\ud800"}"""u8.ToArray(), "messageId", "lone UTF-16 surrogate" },
        new object[] { Encoding.UTF8.GetBytes("""{"userId":"u","event":"E","properties":{"note":"X"}}""").Select(b => b == 'X' ? (byte)0xFF : b).ToArray(), "properties.note", "not valid UTF-8" },
        new object[] { Encoding.UTF8.GetBytes("""{"userId":"u","event":"E","properties":{"X":1}}""").Select(b => b == 'X' ? (byte)0xC3 : b).ToArray(), "properties.(name)", "not valid UTF-8" },
        new object[] { """{"userId":"u","event":"E","properties":{"n":1e400000}}"""u8.ToArray(), "properties.n", "outside the range" },
        new object[] { """{"userId":"u","event":"E","properties":{"n":1e-20000}}"""u8.ToArray(), "properties.n", "digits after the decimal point" },
        new object[] { Encoding.UTF8.GetBytes($$"""{"userId":"u","event":"{{new string('e', 3000)}}"}"""), "event", "longer than 512" },
        new object[] { """{"userId":"u","event":"E","timestamp":"0001-01-01T00:00:00Z","sentAt":"9999-12-31T23:59:59Z"}"""u8.ToArray(), "timestamp", "outside the calendar" },
        // Found by the fuzz: a lone surrogate in a top-level name made the lookup of writeKey throw (500).
        new object[] { """{"userId":"u","event":"E","\ud800\u0041":1}"""u8.ToArray(), "(name)", "lone UTF-16 surrogate" },
    ];

    [TestCaseSource(nameof(Unstorable))]
    public async Task A_message_that_cannot_be_stored_gets_400_naming_the_field(byte[] body, string field, string reason)
    {
        var (status, problem) = await Send(Raw("/v1/track", body));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(Field(problem, field), Does.Contain(reason));
        Assert.That(await Api.DrainAsync(), Is.Empty);
    }

    /// <summary>Found by the fuzz: a lone surrogate in a message's own name, or its context's, made the measure of the context the API adds throw (500).</summary>
    [TestCase("/v1/track", """{"userId":"u","event":"E","context":{"\ud800":1}}""", "context.(name)")]
    [TestCase("/v1/batch", """{"batch":[{"type":"track","userId":"u","event":"E","context":{"\ud800":1}},{"type":"track","userId":"u","event":"Good"}]}""", "batch[0].context.(name)")]
    [TestCase("/v1/batch", """{"batch":[{"type":"track","userId":"u","event":"E","\\\ud800":1},{"type":"track","userId":"u","event":"Good"}]}""", "batch[0].(name)")]
    public async Task A_name_that_cannot_be_stored_beside_the_context_the_api_adds_gets_400_naming_it(string path, string body, string field)
    {
        using var request = Raw(path, Encoding.UTF8.GetBytes(body));
        request.Headers.UserAgent.ParseAdd("Fuzz/1.0"); // the API adds a userAgent to each message's context
        var (status, problem) = await Send(request);

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), problem.ToString());
        Assert.That(Field(problem, field), Does.Contain("lone UTF-16 surrogate"));
        var stored = await Api.DrainAsync();
        Assert.That(stored.Select(e => e.GetProperty("event").GetString()), Is.EqualTo(path == "/v1/batch" ? new[] { "Good" } : Array.Empty<string>()));
    }

    [Test]
    public async Task Good_requests_gathered_with_an_unserializable_one_all_get_200()
    {
        var good = Enumerable.Range(0, 60).Select(i => $$"""{"userId":"u","event":"Good","messageId":"good-{{i}}-{{Guid.NewGuid()}}"}""").ToList();
        var bad = Enumerable.Range(0, 6).Select(i => $$$"""{"userId":"u","event":"Bad","properties":{"s":"\ud800 {{{i}}}"}}""");

        var answers = await Task.WhenAll(good.Concat(bad).Select(async body => (body, (await Send(Raw("/v1/track", Encoding.UTF8.GetBytes(body)))).Status)));

        Assert.That(answers.Where(a => a.body.Contains("Good")).Select(a => a.Status), Has.All.EqualTo(HttpStatusCode.OK));
        Assert.That(answers.Where(a => a.body.Contains("Bad")).Select(a => a.Status), Has.All.EqualTo(HttpStatusCode.BadRequest));
        var queued = await Api.EventsOnQueueAsync(good.Count);
        Assert.That(queued.Select(e => e.GetProperty("event").GetString()).ToList(), Has.Count.EqualTo(good.Count).And.All.EqualTo("Good"));
    }

    [Test]
    public async Task A_small_batch_whose_shared_context_would_be_copied_into_every_message_gets_413()
    {
        var batch = Enumerable.Range(0, 1000).Select(i => new { type = "track", userId = "u", @event = "E" });
        var body = JsonSerializer.SerializeToUtf8Bytes(new { batch, context = new { blob = new string('x', 10 * 1024) } });

        var (status, problem) = await Send(Raw("/v1/batch", body));

        Assert.That(body.Length, Is.LessThan(100 * 1024), "the body itself is within the 500 KB limit, and each message with the context within 32 KB");
        Assert.That(status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("context"));
        Assert.That(await Api.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task A_message_over_32_KB_once_the_batch_context_is_merged_in_is_rejected_alone()
    {
        var batch = new object[]
        {
            new { type = "track", userId = "u", @event = "Small", messageId = $"small-{Guid.NewGuid()}" },
            new { type = "track", userId = "u", @event = "Large", properties = new { blob = new string('x', 20 * 1024) } },
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(new { batch, context = new { page = new { title = new string('t', 15 * 1024) } } });

        var (status, problem) = await Send(Raw("/v1/batch", body));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(Field(problem, "batch[1]"), Does.Contain("32 KB with the batch's context"));
        var queued = await Api.EventsOnQueueAsync(1);
        Assert.That(queued.Single().GetProperty("context").GetProperty("page").GetProperty("title").GetString(), Has.Length.EqualTo(15 * 1024),
            "the small message is stored with the batch's context merged in");
    }

    [TestCase("""{"batch":[{"type":"track","userId":"u","event":"E"}],"context":{"page":{"title":"a\u0000b"}}}""", "context.page.title", "NUL")]
    [TestCase("""{"batch":[{"type":"track","userId":"u","event":"E"}],"integrations":{"x":"\ud800"}}""", "integrations.x", "surrogate")]
    [TestCase("""{"batch":[{"type":"track","userId":"u","event":"E"}],"context":[1]}""", "context", "must be a JSON object")]
    public async Task A_batch_level_field_that_cannot_be_stored_gets_400_naming_it(string body, string field, string reason)
    {
        var (status, problem) = await Send(Raw("/v1/batch", Encoding.UTF8.GetBytes(body)));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(Field(problem, field), Does.Contain(reason));
        Assert.That(await Api.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task The_batch_context_is_merged_key_by_key_into_a_message_that_has_its_own()
    {
        var body = """{"batch":[{"type":"track","userId":"u","event":"E","context":{"ip":"1.2.3.4","locale":"fr"}}],"context":{"locale":"en","library":{"name":"x"}}}""";

        var (status, _) = await Send(Raw("/v1/batch", Encoding.UTF8.GetBytes(body)));

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        var context = (await Api.EventsOnQueueAsync(1)).Single().GetProperty("context");
        // The message's own ip, anonymized: the source's IP policy is the default (When_a_source_s_ip_policy_applies).
        Assert.That((context.GetProperty("ip").GetString(), context.GetProperty("locale").GetString(), context.GetProperty("library").GetProperty("name").GetString()),
            Is.EqualTo(("1.2.3.0", "fr", "x")));
    }

    [Test]
    public async Task An_analytics_item_over_32_KB_is_rejected_alone()
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new { product = 1, pennkey = "bob", timestamp = 1763800000, data = new object[] { new { key = "small", value = 1 }, new { key = "big", value = new string('v', 33 * 1024) } } });

        var (status, problem) = await Send(Raw("/analytics", body));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(Field(problem, "data[1]"), Does.Contain("32 KB"));
        Assert.That((await Api.EventsOnQueueAsync(1)).Single().GetProperty("event").GetString(), Is.EqualTo("small"));
    }

    [Test]
    public async Task The_same_body_without_message_ids_posted_twice_carries_the_same_ids()
    {
        var body = Encoding.UTF8.GetBytes($$"""{"product":2,"pennkey":"bob","timestamp":1763800000,"data":[{"key":"{{Guid.NewGuid()}}","value":1},{"key":"again","value":1},{"key":"again","value":1}]}""");

        Assert.That((await Send(Raw("/analytics", body))).Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await Send(Raw("/analytics", body))).Status, Is.EqualTo(HttpStatusCode.OK));

        var ids = (await Api.EventsOnQueueAsync(6)).Select(e => e.GetProperty("messageId").GetString()).ToList();
        Assert.That(ids, Has.Count.EqualTo(6));
        Assert.That(ids.Distinct().Count(), Is.EqualTo(3), "the retry repeats the first post's three ids, and two equal items in one body keep two ids");
    }

    static byte[] Compress(byte[] body, string encoding)
    {
        using var output = new MemoryStream();
        using (Stream compressor = encoding == "gzip" ? new GZipStream(output, CompressionLevel.Optimal) : new ZLibStream(output, CompressionLevel.Optimal))
            compressor.Write(body);
        return output.ToArray();
    }

    [TestCase("/v1/track", "gzip")]
    [TestCase("/v1/track", "deflate")]
    [TestCase("/v1/batch", "gzip")]
    [TestCase("/analytics", "gzip")]
    public async Task A_compressed_body_is_accepted(string path, string encoding)
    {
        var id = Guid.NewGuid().ToString();
        var json = path switch
        {
            "/v1/track" => $$"""{"userId":"u","event":"Zipped","messageId":"{{id}}"}""",
            "/v1/batch" => $$"""{"batch":[{"type":"track","userId":"u","event":"Zipped","messageId":"{{id}}"}]}""",
            _ => """{"product":1,"pennkey":"bob","timestamp":1763800000,"data":[{"key":"Zipped","value":1}]}""",
        };

        var (status, _) = await Send(Raw(path, Compress(Encoding.UTF8.GetBytes(json), encoding), encoding));

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await Api.EventsOnQueueAsync(1)).Single().GetProperty("event").GetString(), Is.EqualTo("Zipped"));
    }

    [Test]
    public async Task A_gzip_bomb_gets_413_without_being_inflated()
    {
        var json = Encoding.UTF8.GetBytes("""{"batch":[{"type":"track","userId":"u","event":"E","properties":{"pad":" """ + new string(' ', 50 * 1024 * 1024) + "\"}}]}");
        var bomb = Compress(json, "gzip");

        var (status, problem) = await Send(Raw("/v1/batch", bomb, "gzip"));

        Assert.That(bomb.Length, Is.LessThan(100 * 1024), "a small body");
        Assert.That(status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("500 KB"));
    }

    [Test]
    public async Task A_corrupt_gzip_body_gets_400()
    {
        var (status, problem) = await Send(Raw("/v1/track", [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "gzip"));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("gzip"));
    }

    [Test]
    public async Task A_gzip_body_without_its_trailer_gets_400()
    {
        // GZipStream inflates it whole without complaint: only the missing CRC-32 and length tell it was cut short.
        var cut = Compress("""{"userId":"u","event":"Cut short"}"""u8.ToArray(), "gzip")[..^8];

        var (status, problem) = await Send(Raw("/v1/track", cut, "gzip"));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("cut short or damaged"));
        Assert.That(await Api.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task An_unknown_content_encoding_gets_415()
    {
        var (status, problem) = await Send(Raw("/v1/track", """{"userId":"u","event":"E"}"""u8.ToArray(), "br"));

        Assert.That(status, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("br"));
    }
}
