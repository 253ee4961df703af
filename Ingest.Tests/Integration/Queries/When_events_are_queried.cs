using System.Net;
using System.Text.Json;
using Dapper;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>A source with a known set of stored events, read through GET /v1/events with each filter and combinations.</summary>
public sealed class When_events_are_queried
{
    static readonly DateTime Start = new(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);
    static readonly List<StoredEvent> Seeded = [];
    static string _source = null!;
    static string _readKey = null!;

    [OneTimeSetUp]
    public async Task Seed()
    {
        (_source, _, _readKey) = await ReadSide.CreateSourceAsync();
        string[] names = ["Signed Up", "Clicked", "Viewed", "Clicked, twice \"quoted\""];
        for (var i = 0; i < 120; i++)
        {
            // pairs share a timestamp, so the order and the cursor must break ties by id
            var timestamp = Start.AddMinutes(37 * (i / 2));
            var type = i % 10 == 9 ? "identify" : i % 10 == 8 ? "page" : "track";
            Seeded.Add(new(_source, $"m-{i:000}-{Guid.NewGuid():N}", type, type == "track" ? names[i % names.Length] : null,
                i % 3 == 0 ? null : $"u{i % 5}", i % 3 == 0 || i % 7 == 0 ? $"a{i % 4}" : null, timestamp));
        }
        await StoredEvent.InsertAsync(Seeded);
        // another source's events, which this source's read key must never see
        var (other, _, _) = await TestSources.CreateAsync();
        await StoredEvent.InsertAsync([.. Enumerable.Range(0, 20).Select(i => StoredEvent.Track(other, "Clicked", "u1", Start.AddMinutes(i)))]);
    }

    static readonly string From = Start.AddHours(10).ToString("O");
    static readonly string To = Start.AddHours(25).ToString("O");

    static IEnumerable<TestCaseData> Filters()
    {
        var from = Start.AddHours(10);
        var to = Start.AddHours(25);
        yield return Case("", _ => true);
        yield return Case("type=identify", e => e.Type == "identify");
        yield return Case("event=Clicked", e => e.Event == "Clicked");
        yield return Case("event=Clicked%2C%20twice%20%22quoted%22", e => e.Event == "Clicked, twice \"quoted\"");
        yield return Case("userId=u2", e => e.UserId == "u2");
        yield return Case("anonymousId=a1", e => e.AnonymousId == "a1");
        yield return Case($"from={From}", e => e.Timestamp >= from);
        yield return Case($"to={To}", e => e.Timestamp < to);
        yield return Case($"from={From}&to={To}", e => e.Timestamp >= from && e.Timestamp < to);
        yield return Case("type=track&event=Viewed", e => e.Type == "track" && e.Event == "Viewed");
        yield return Case("event=Signed%20Up&userId=u1", e => e.Event == "Signed Up" && e.UserId == "u1");
        yield return Case("userId=u4&anonymousId=a0", e => e.UserId == "u4" && e.AnonymousId == "a0");
        yield return Case($"type=track&userId=u3&from={From}&to={To}", e => e.Type == "track" && e.UserId == "u3" && e.Timestamp >= from && e.Timestamp < to);
        yield return Case("event=No%20such%20event", _ => false);
    }

    static TestCaseData Case(string query, Func<StoredEvent, bool> matches) => new TestCaseData(query, matches).SetArgDisplayNames(query.Length == 0 ? "(none)" : query);

    static List<long> Expected(Func<StoredEvent, bool> matches) =>
        Seeded.Where(matches).OrderByDescending(e => e.Timestamp).ThenByDescending(e => e.Id).Select(e => e.Id).ToList();

    static string Encode(string query) => query.Replace("+", "%2B", StringComparison.Ordinal);

    [TestCaseSource(nameof(Filters))]
    public async Task The_filter_returns_exactly_the_matching_events_newest_first(string query, Func<StoredEvent, bool> matches)
    {
        var pages = await ReadSide.AllPagesAsync($"/v1/events?limit=7&{Encode(query)}", _readKey);
        var ids = pages.SelectMany(p => p).Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.That(ids, Is.EqualTo(Expected(matches)));
        Assert.That(pages.Take(pages.Count - 1).Select(p => p.Count), Is.All.EqualTo(7), "every page but the last is full");
    }

    [Test]
    public async Task A_page_carries_the_stored_fields_of_each_event()
    {
        var page = await ReadSide.GetJsonAsync("/v1/events?limit=1", _readKey);
        var newest = Seeded.OrderByDescending(e => e.Timestamp).ThenByDescending(e => e.Id).First();
        var e = page.GetProperty("events")[0];
        Assert.Multiple(() =>
        {
            Assert.That(e.GetProperty("messageId").GetString(), Is.EqualTo(newest.MessageId));
            Assert.That(e.GetProperty("type").GetString(), Is.EqualTo(newest.Type));
            Assert.That(e.GetProperty("timestamp").GetDateTime(), Is.EqualTo(newest.Timestamp));
            Assert.That(e.GetProperty("properties").GetProperty("n").GetString(), Is.EqualTo(newest.MessageId));
        });
    }

    [Test]
    public async Task The_default_page_holds_100_events()
    {
        var page = await ReadSide.GetJsonAsync("/v1/events", _readKey);
        Assert.That(page.GetProperty("events").GetArrayLength(), Is.EqualTo(100));
        Assert.That(page.GetProperty("nextCursor").GetString(), Is.Not.Null);
    }

    [TestCase("limit=0", "limit")]
    [TestCase("limit=1001", "limit")]
    [TestCase("limit=ten", "limit")]
    [TestCase("from=yesterday", "from")]
    [TestCase("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to")]
    [TestCase("type=purchase", "type")]
    public async Task A_bad_parameter_is_refused_with_400_naming_it(string query, string parameter)
    {
        using var response = await ReadSide.Client.SendAsync(ReadSide.Get($"/v1/events?{query}", _readKey));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), body);
        Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty(parameter, out _), Is.True, body);
    }

    [Test]
    public async Task A_tampered_cursor_is_refused_with_400()
    {
        var page = await ReadSide.GetJsonAsync("/v1/events?limit=5", _readKey);
        var cursor = page.GetProperty("nextCursor").GetString()!;
        // change one character of the position, keep it valid base64url
        var tampered = cursor[..4] + (cursor[4] == 'A' ? 'B' : 'A') + cursor[5..];
        foreach (var bad in new[] { tampered, "not-a-cursor", cursor[..^2] })
        {
            using var response = await ReadSide.Client.SendAsync(ReadSide.Get($"/v1/events?limit=5&cursor={bad}", _readKey));
            var body = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), $"{bad}: {body}");
            Assert.That(body, Does.Contain("cursor"));
        }
    }

    [Test]
    public async Task A_cursor_is_refused_with_other_filters_or_another_source()
    {
        var page = await ReadSide.GetJsonAsync("/v1/events?limit=5&type=track", _readKey);
        var cursor = page.GetProperty("nextCursor").GetString()!;
        using var otherFilter = await ReadSide.Client.SendAsync(ReadSide.Get($"/v1/events?limit=5&type=page&cursor={cursor}", _readKey));
        Assert.That(otherFilter.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var (_, _, otherKey) = await ReadSide.CreateSourceAsync();
        using var otherSource = await ReadSide.Client.SendAsync(ReadSide.Get($"/v1/events?limit=5&type=track&cursor={cursor}", otherKey));
        Assert.That(otherSource.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Another_source_sees_none_of_these_events()
    {
        var (_, _, otherKey) = await ReadSide.CreateSourceAsync();
        var page = await ReadSide.GetJsonAsync("/v1/events", otherKey);
        Assert.That(page.GetProperty("events").GetArrayLength(), Is.Zero);
        using var one = await ReadSide.Client.SendAsync(ReadSide.Get($"/v1/events/{Seeded[0].MessageId}", otherKey));
        Assert.That(one.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Csv_export_holds_every_matching_event_with_quoting()
    {
        using var response = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/events?type=track", _readKey, "text/csv"), HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/csv"));
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var expected = Expected(e => e.Type == "track");
        Assert.That(lines[0], Does.StartWith("id,message_id,type,event,"));
        Assert.That(lines.Skip(1).Select(l => long.Parse(l[..l.IndexOf(',', StringComparison.Ordinal)])), Is.EqualTo(expected));
        Assert.That(lines, Has.Some.Contains("\"Clicked, twice \"\"quoted\"\"\""), "a field with a comma and quotes is quoted");
    }

    [Test]
    public async Task A_stored_message_is_found_with_its_row()
    {
        var stored = Seeded[3];
        var found = await ReadSide.GetJsonAsync($"/v1/events/{stored.MessageId}", _readKey);
        Assert.That(found.GetProperty("status").GetString(), Is.EqualTo("stored"));
        Assert.That(found.GetProperty("event").GetProperty("id").GetInt64(), Is.EqualTo(stored.Id));
    }

    [Test]
    public async Task A_quarantined_message_is_found_with_its_reason_and_an_unknown_one_is_404()
    {
        var evt = QuarantinedRow.Event(_source);
        await QuarantinedRow.InsertAsync(_source, evt, "invalid byte sequence for encoding \"UTF8\": 0x00");
        var found = await ReadSide.GetJsonAsync($"/v1/events/{evt.MessageId}", _readKey);
        Assert.That(found.GetProperty("status").GetString(), Is.EqualTo("quarantined"));
        Assert.That(found.GetProperty("quarantined")[0].GetProperty("reason").GetString(), Does.Contain("0x00"));

        using var missing = await ReadSide.Client.SendAsync(ReadSide.Get($"/v1/events/{Guid.NewGuid()}", _readKey));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await missing.Content.ReadAsStringAsync(), Does.Contain("not found"));
    }
}
