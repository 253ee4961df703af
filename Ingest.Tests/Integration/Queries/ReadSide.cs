using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>One API host for every read-side test: the read side is stateless, each test class uses sources of its own.</summary>
[SetUpFixture]
public sealed class ReadSide
{
    public static ApiHost Api { get; private set; } = null!;
    public static HttpClient Client { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        var (_, writeKey, _) = await TestSources.CreateAsync();
        Api = new ApiHost();
        Client = await Api.StartAsync(writeKey);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        Client.Dispose();
        Api.Dispose();
    }

    /// <summary>A new source with a write and a read key, once the API has loaded its keys (it reloads them every second).</summary>
    public static async Task<(string SourceId, string WriteKey, string ReadKey)> CreateSourceAsync()
    {
        var source = await TestSources.CreateAsync();
        await Eventually.Async(async () =>
        {
            using var response = await Client.SendAsync(Get("/v1/quarantine?limit=1", source.ReadKey));
            return response.StatusCode != System.Net.HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(10), "the API to load the new source's keys");
        return source;
    }

    public static HttpRequestMessage Get(string path, string readKey, string? accept = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", readKey) } };
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    public static async Task<JsonElement> GetJsonAsync(string path, string readKey)
    {
        using var response = await Client.SendAsync(Get(path, readKey));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.EqualTo(200), $"GET {path}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Every page of GET <paramref name="path"/> (which has a query string), following nextCursor; the rows of each.</summary>
    public static async Task<List<List<JsonElement>>> AllPagesAsync(string path, string readKey, string itemsProperty = "events")
    {
        var pages = new List<List<JsonElement>>();
        string? cursor = null;
        do
        {
            var page = await GetJsonAsync(cursor is null ? path : $"{path}&cursor={cursor}", readKey);
            pages.Add(page.GetProperty(itemsProperty).EnumerateArray().ToList());
            cursor = page.GetProperty("nextCursor").GetString();
            Assert.That(pages, Has.Count.LessThan(10_000), "pagination does not end");
        } while (cursor is not null);
        return pages;
    }
}

/// <summary>An event row as a test writes it straight into the events table (storage is the worker's business).</summary>
public sealed record StoredEvent(string SourceId, string MessageId, string Type, string? Event, string? UserId, string? AnonymousId, DateTime Timestamp)
{
    public long Id { get; set; }

    const string InsertEvents = """
        insert into events (source_id, message_id, type, event, user_id, anonymous_id, "timestamp", received_at, properties)
        select s, m, t, e, u, a, ts, ts, jsonb_build_object('n', m)
        from unnest(@Sources, @MessageIds, @Types, @Events, @UserIds, @AnonymousIds, @Timestamps) as x(s, m, t, e, u, a, ts)
        returning id, message_id
        """;

    /// <summary>Inserts the events in one statement and sets their ids.</summary>
    public static async Task InsertAsync(IReadOnlyList<StoredEvent> events)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        var ids = (await conn.QueryAsync<(long Id, string MessageId)>(InsertEvents, new
        {
            Sources = events.Select(e => e.SourceId).ToArray(),
            MessageIds = events.Select(e => e.MessageId).ToArray(),
            Types = events.Select(e => e.Type).ToArray(),
            Events = events.Select(e => e.Event).ToArray(),
            UserIds = events.Select(e => e.UserId).ToArray(),
            AnonymousIds = events.Select(e => e.AnonymousId).ToArray(),
            Timestamps = events.Select(e => e.Timestamp).ToArray(),
        })).ToDictionary(r => r.MessageId, r => r.Id);
        foreach (var e in events) e.Id = ids[e.MessageId];
    }

    public static StoredEvent Track(string sourceId, string name, string? userId, DateTime timestamp, string? anonymousId = null) =>
        new(sourceId, Guid.NewGuid().ToString(), "track", name, userId, anonymousId, timestamp);
}
