using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ingest.Contracts;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Logging;

/// <summary>
/// Both hosts as deployed (child processes at appsettings.json's log levels, CLEF on the console) take events with one
/// canary in every field that is personal data: user and anonymous ids, event and page names, group and previous ids,
/// traits and properties (keys and values), context (ip, userAgent, page url), integrations, the request's headers
/// and query string. They are accepted, refused (4xx), quarantined by the database and dead-lettered, and read back
/// through the read side; then neither host's output may hold the canary anywhere. Source ids, message ids, counts
/// and SQLSTATEs may be logged, so the canary is in none of them. Both hosts read the test folder's appsettings.json,
/// the worker's (the API's is overwritten when both are copied there): the same levels as the API's, but for the key
/// handler's Information lines, so the API logs a little more here than deployed, never less.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_events_carry_personal_data
{
    // Mixed case: the search ignores case. Letters and digits only, so that JSON or URL escaping leaves it as it is.
    static readonly string Canary = $"PdCanary{Guid.NewGuid():N}"[..24];

    // Addresses from the documentation ranges (RFC 5737), in no other log line: one a proxy forwards, one in a message's context.
    const string ForwardedIp = "198.51.100.73";
    const string ContextIp = "203.0.113.58";

    static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Test]
    public async Task No_log_line_of_either_host_carries_any_of_it(CancellationToken ct)
    {
        var (_, writeKey, readKey) = await TestSources.CreateAsync();
        await using var api = await ApiProcess.StartAtDefaultLogLevelsAsync(ct);
        await using var worker = await WorkerProcess.StartAsync(api.Queue, atDefaultLogLevels: true);
        await api.AcceptsAsync(writeKey);
        using var http = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"{Canary}/1.0");
        http.DefaultRequestHeaders.Referrer = new Uri($"https://shop.example/{Canary}?q={Canary}");
        http.DefaultRequestHeaders.Add("X-Forwarded-For", ForwardedIp);

        // Accepted: each write path, each message type, every field.
        await PostAsync(http, $"/v1/track?ref={Canary}", Message("track"), writeKey, HttpStatusCode.OK, ct);
        await PostAsync(http, $"/v1/batch?ref={Canary}", new Dictionary<string, object>
        {
            ["batch"] = Ingest.Api.Tracking.SegmentMessage.Types.Select(Message).ToArray(),
            ["context"] = Context(),
            ["integrations"] = new Dictionary<string, object> { [Canary] = Canary },
        }, writeKey, HttpStatusCode.OK, ct);
        await PostAsync(http, $"/analytics?ref={Canary}", new
        {
            product = 1, pennkey = Canary, timestamp = Now.ToUnixTimeSeconds(),
            data = new[] { new { key = Canary, value = Canary }, new { key = "Viewed", value = $"{Canary}@example.com" } },
        }, writeKey, HttpStatusCode.OK, ct);
        var beacon = Message("track");
        beacon["writeKey"] = writeKey;
        await PostAsync(http, $"/v1/t?ref={Canary}", beacon, null, HttpStatusCode.OK, ct, "text/plain");

        // Refused: each with the canary in what is refused, and everywhere else.
        var tooLong = Message("track");
        tooLong["userId"] = string.Concat(Enumerable.Repeat(Canary, 20));
        await PostAsync(http, "/v1/track", tooLong, writeKey, HttpStatusCode.BadRequest, ct);
        var badTime = Message("track");
        badTime["timestamp"] = $"{Canary}T10:00:00Z";
        await PostAsync(http, "/v1/track", badTime, writeKey, HttpStatusCode.BadRequest, ct);
        await PostAsync(http, "/v1/track", $$"""{"userId":"{{Canary}}","event":"{{Canary}}" "{{Canary}}"}""", writeKey, HttpStatusCode.BadRequest, ct);
        await PostAsync(http, "/v1/track", $$$"""{"userId":"{{{Canary}}}","properties":{"{{{Canary}}}\u0000":"{{{Canary}}}"}}""", writeKey, HttpStatusCode.BadRequest, ct);
        await PostAsync(http, "/v1/batch", new { batch = new object[] { Message("track"), tooLong, badTime, new { type = Canary, userId = Canary } } },
            writeKey, HttpStatusCode.BadRequest, ct);
        var wrongKey = Message("track");
        wrongKey["writeKey"] = Canary;
        await PostAsync(http, "/v1/t", wrongKey, null, HttpStatusCode.Unauthorized, ct, "text/plain");
        await PostAsync(http, $"/v1/track?writeKey={Canary}", Message("track"), null, HttpStatusCode.Unauthorized, ct);
        await PostAsync(http, "/analytics", new { product = 99, pennkey = Canary, timestamp = Canary, data = new[] { new { key = Canary } } },
            writeKey, HttpStatusCode.BadRequest, ct);

        // Read back: the filters are personal data too, in the query string.
        await GetAsync(http, $"/v1/events?userId={Canary}&anonymousId={Canary}&event={Canary}", readKey, HttpStatusCode.OK, ct);
        await GetAsync(http, $"/v1/events?userId={Canary}&from={Canary}", readKey, HttpStatusCode.BadRequest, ct);
        await GetAsync(http, $"/v1/events?userId={Canary}%00{Canary}", readKey, HttpStatusCode.BadRequest, ct);
        await GetAsync(http, $"/v1/stats/events?event={Canary}", readKey, HttpStatusCode.OK, ct);

        // What the API lets through and PostgreSQL refuses (quarantined), and what no worker can read (dead-lettered),
        // sent to the worker's queue as an older API or a stray publisher would.
        await using var sender = await EventSender.StartAsync(api.Queue, ct);
        var refused = new[]
        {
            Refused(sender, "pd-overflow", $$"""{"{{Canary}}":1e400000,"note":"{{Canary}}"}"""),     // numeric overflow inside jsonb: 22003
            Refused(sender, "pd-nul-json", $$"""{"{{Canary}}":"{{Canary}}\u0000{{Canary}}"}"""),     // NUL escape inside jsonb: 22P05
            Refused(sender, "pd-nul-text", "{}") with { UserId = $"{Canary}\0{Canary}" },            // NUL in text: found before writing
            // Longer than a btree index row holds, in hex that does not compress: 54000.
            Refused(sender, "pd-long-id", "{}") with { UserId = Canary + string.Concat(Enumerable.Range(0, 150).Select(_ => Guid.NewGuid().ToString("N"))) },
        };
        await sender.SendAsync(refused, ct);
        // A batch large enough to go through COPY, whose refusal quotes the row it failed on.
        await sender.SendAsync([.. Enumerable.Range(0, 600).Select(i => Refused(sender, $"pd-copy-{i}", $$"""{"{{Canary}}":"{{Canary}}"}""")),
            Refused(sender, "pd-copy-overflow", $$"""{"{{Canary}}":1e400000}""")], ct);
        var unreadable = new[]
        {
            // System.Text.Json quotes the rest of the body after a broken literal (true, false, null) in its exception message.
            Envelope($$$"""
                {"batchId":"0f8fad5b-d9cb-469f-a165-70867728950e","publishedAt":"2026-11-22T10:00:00Z","events":[
                  {"sourceId":"s","messageId":"pd-literal","type":"track","timestampClamped":fals,"event":"O'Brien {{{Canary}}}","userId":"{{{Canary}}}",
                   "properties":{"{{{Canary}}}":"{{{Canary}}}"},"context":{"ip":"{{{ContextIp}}}","userAgent":"{{{Canary}}}"}}]}
                """),
            $$$"""{"messageId":"{{{Guid.NewGuid()}}}","headers":{"{{{Canary}}}":{"a": tru, "b":"{{{Canary}}}"}},"messageType":["urn:message:Ingest.Contracts:EventBatch"],"message":{}}""",
            Envelope($$$"""{"batchId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","publishedAt":"2026-11-22T10:00:00Z","events":[{"sourceId":"s","{{{Canary}}}": [1, }]}"""),
            Envelope($$$"""{"batchId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","publishedAt":"2026-11-22T10:00:00Z","events":[{"sourceId":"s","properties":{"{{{Canary}}}": {"{{{Canary}}}": "{{{Canary}}}\ud800"} } }]}"""),
            $$"""{ "userId": "{{Canary}}", {{Canary}} """,
            Envelope($$"""{"batchId":"{{Canary}}","publishedAt":"{{Canary}}","events":[{"sourceId":"{{Canary}}","userId":"{{Canary}}"}]}"""),
            Envelope($$$"""
                {"batchId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","publishedAt":"2026-11-22T10:00:00Z","events":[
                  {"sourceId":null,"messageId":"pd-dead","type":"track","event":"{{{Canary}}}","userId":"{{{Canary}}}","timestamp":"{{{Canary}}}",
                   "receivedAt":"2026-11-22T10:00:00Z","properties":{"{{{Canary}}}":"{{{Canary}}}"},"context":{"ip":"{{{ContextIp}}}"}}]}
                """),
        };
        foreach (var body in unreadable)
            await sender.SendRawAsync(Encoding.UTF8.GetBytes(body), "application/vnd.masstransit+json", ct);

        await Eventually.HoldsAsync(async t => worker.Transactions("quarantined").Count() >= refused.Length + 1
                && await sender.ErrorQueueMessagesAsync(t) >= unreadable.Length,
            TimeSpan.FromSeconds(60), () => $"{worker.Transactions("quarantined").Count()} quarantined; {sender.ErrorQueueMessagesAsync(CancellationToken.None).Result} dead-lettered:\n{worker.Output}");
        // What is searched exists: a line for each refused request (4xx are Warnings), each quarantined event and each dead letter.
        Assert.That(worker.Transactions("dead-lettered").Count(), Is.EqualTo(unreadable.Length), worker.Output);
        Assert.That(api.Requests.Count(r => r.TryGetProperty("StatusCode", out var status) && status.GetInt32() is >= 400 and < 500), Is.GreaterThanOrEqualTo(10), api.Output);

        // Every line of both hosts, CLEF or not, exceptions (@x) included; the canary is letters and digits, so JSON
        // escaping cannot hide it, and case is ignored.
        var leaks = (from host in new[] { ("Ingest.Api", api.Output), ("Ingest.Worker", worker.Output) }
                     from line in host.Item2.Split('\n')
                     from secret in new[] { Canary, ForwardedIp, ContextIp }
                     where line.Contains(secret, StringComparison.OrdinalIgnoreCase)
                     select $"{host.Item1} logged {secret}: {(line.Length > 1500 ? line[..1500] + "…" : line)}").ToList();
        Assert.That(leaks, Is.Empty, string.Join("\n\n", leaks));
    }

    /// <summary>A Segment message of <paramref name="type"/> with the canary in every field it can carry.</summary>
    static Dictionary<string, object> Message(string type) => new()
    {
        ["type"] = type,
        ["messageId"] = $"pd-{Guid.NewGuid():N}",
        ["userId"] = Canary,
        ["anonymousId"] = Canary,
        ["event"] = Canary,
        ["name"] = Canary,
        ["groupId"] = Canary,
        ["previousId"] = Canary,
        ["traits"] = new Dictionary<string, object> { [Canary] = Canary, ["email"] = $"{Canary}@example.com", ["nested"] = new[] { Canary } },
        ["properties"] = new Dictionary<string, object> { [Canary] = Canary, ["url"] = $"https://shop.example/{Canary}", ["amount"] = 12.5 },
        ["context"] = Context(),
        ["integrations"] = new Dictionary<string, object> { [Canary] = true },
        ["timestamp"] = Now.AddSeconds(-1),
        ["sentAt"] = Now,
    };

    static Dictionary<string, object> Context() => new()
    {
        ["ip"] = ContextIp,
        ["userAgent"] = $"{Canary}/2.0",
        ["page"] = new Dictionary<string, object> { ["url"] = $"https://shop.example/{Canary}?q={Canary}", ["path"] = $"/{Canary}", ["referrer"] = Canary, ["title"] = Canary },
        ["traits"] = new Dictionary<string, object> { [Canary] = Canary },
        ["library"] = new Dictionary<string, object> { ["name"] = Canary },
    };

    static AnalyticsEvent Refused(EventSender sender, string messageId, string properties) => sender.Event(messageId, JsonDocument.Parse(properties).RootElement) with
    {
        Event = Canary, UserId = Canary, AnonymousId = Canary, Name = Canary, GroupId = Canary, PreviousId = Canary,
        Traits = JsonDocument.Parse($$"""{"{{Canary}}":"{{Canary}}"}""").RootElement,
        Context = JsonDocument.Parse($$$"""{"ip":"{{{ContextIp}}}","userAgent":"{{{Canary}}}","page":{"url":"https://shop.example/{{{Canary}}}"}}""").RootElement,
        Integrations = JsonDocument.Parse($$"""{"{{Canary}}":true}""").RootElement,
    };

    static string Envelope(string eventBatch) =>
        $$"""{"messageId":"{{Guid.NewGuid()}}","messageType":["urn:message:Ingest.Contracts:EventBatch"],"message":{{eventBatch}}}""";

    static async Task GetAsync(HttpClient http, string path, string readKey, HttpStatusCode expected, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", readKey) } };
        using var response = await http.SendAsync(request, ct);
        Assert.That(response.StatusCode, Is.EqualTo(expected), $"GET {path}: {await response.Content.ReadAsStringAsync(ct)}");
    }

    static async Task PostAsync(HttpClient http, string path, object body, string? writeKey, HttpStatusCode expected, CancellationToken ct, string contentType = "application/json")
    {
        using var request = ApiHost.Post(path, body, writeKey, contentType);
        using var response = await http.SendAsync(request, ct);
        Assert.That(response.StatusCode, Is.EqualTo(expected), $"POST {path}: {await response.Content.ReadAsStringAsync(ct)}");
    }
}
