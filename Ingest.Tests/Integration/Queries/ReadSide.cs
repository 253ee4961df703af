using System.Net.Http.Headers;
using System.Text.Json;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>One API host for every read-side test: the read side is stateless, each test class uses sources of its own.</summary>
[SetUpFixture]
public sealed class ReadSide
{
    public static ApiHost Api { get; private set; } = null!;
    public static HttpClient Client { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task Start() => (Api, Client, _, _) = await ApiHost.StartForNewSourceAsync();

    [OneTimeTearDown]
    public void Stop() => Api.Dispose();

    /// <summary>A new source with a write and a read key, once the API has loaded its keys (it reloads them every second).</summary>
    public static async Task<(string SourceId, string WriteKey, string ReadKey)> CreateSourceAsync()
    {
        var source = await TestSources.CreateAsync();
        await Eventually.HoldsAsync(async t =>
        {
            using var response = await Client.SendAsync(Get("/v1/quarantine?limit=1", source.ReadKey), t);
            return response.StatusCode != System.Net.HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(10), () => "the API to load the new source's keys");
        return source;
    }

    /// <summary>Waits until <paramref name="http"/>, an API host of the test's own, has loaded <paramref name="readKey"/>.</summary>
    public static Task ReadKeyLoadedAsync(HttpClient http, string readKey) =>
        Eventually.HoldsAsync(async t =>
        {
            using var response = await http.SendAsync(Get("/v1/quarantine?limit=1", readKey), t);
            return response.StatusCode == System.Net.HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(10), () => "the API to load the new source's keys");

    public static HttpRequestMessage Get(string path, string readKey, string? accept = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", readKey) } };
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    /// <summary>GET <paramref name="path"/> from the shared API, or <paramref name="api"/>: asserts a 200 and returns its JSON.</summary>
    public static async Task<JsonElement> GetJsonAsync(string path, string readKey, HttpClient? api = null)
    {
        using var response = await (api ?? Client).SendAsync(Get(path, readKey));
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
