using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using RabbitMQ.Client;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// The real Ingest.Api, in process, against the real RabbitMQ and PostgreSQL of the test stack, sending to a queue of
/// its own so that a test reads exactly the broker messages it caused.
/// </summary>
public sealed class ApiHost : WebApplicationFactory<Program>
{
    /// <summary>A queue of its own, unless the settings name one (Ingest:Broker:Queue).</summary>
    public string Queue { get; }
    readonly Dictionary<string, string?> _settings;
    readonly List<HttpClient> _clients = [];

    public ApiHost(Dictionary<string, string?>? settings = null)
    {
        Queue = settings?.GetValueOrDefault("Ingest:Broker:Queue") ?? $"api-test-{Guid.NewGuid():N}";
        _settings = TestStack.HostSettings(Queue);
        foreach (var (key, value) in KeySettings(Queue)) _settings[key] = value;
        _settings["Ingest:Publish:ConfirmTimeout"] = "00:00:03";
        foreach (var (key, value) in settings ?? []) _settings[key] = value;
    }

    /// <summary>What the API needs beyond <see cref="TestStack.HostSettings"/>: keys reloaded every second, a key snapshot of its own.</summary>
    public static Dictionary<string, string?> KeySettings(string queue) => new()
    {
        ["Ingest:Keys:RefreshInterval"] = "00:00:01",
        ["Ingest:Keys:SnapshotPath"] = Path.Combine(Path.GetTempPath(), $"{queue}-keys.json"),
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        static bool IsSerilog(string key) => key.StartsWith("Serilog:", StringComparison.OrdinalIgnoreCase);
        foreach (var (key, value) in _settings.Where(s => !IsSerilog(s.Key))) builder.UseSetting(key, value);
        // Host settings reach Program with an empty value for every parent key ("Serilog:WriteTo:Seq" = ""), which
        // Serilog.Settings.Configuration reads as a sink with an empty name. The "Serilog" section is read only when the
        // logger is built, after Program has run, so app configuration reaches it in time.
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings.Where(s => IsSerilog(s.Key))));
    }

    /// <summary>An API started for a new source, as most API test classes begin; disposing the host disposes the client.</summary>
    public static async Task<(ApiHost Api, HttpClient Client, string SourceId, string WriteKey)> StartForNewSourceAsync(Dictionary<string, string?>? settings = null)
    {
        var (source, writeKey, _) = await TestSources.CreateAsync();
        var api = new ApiHost(settings);
        return (api, await api.StartAsync(writeKey), source, writeKey);
    }

    /// <summary>
    /// Waits until the API has loaded its keys and connected to the broker (/health/ready and a first key load). The
    /// client is disposed with the host.
    /// </summary>
    public async Task<HttpClient> StartAsync(string writeKey)
    {
        var client = CreateClient();
        _clients.Add(client);
        await Eventually.HoldsAsync(async t =>
        {
            using var request = Track(writeKey, new { userId = "warm-up", @event = "Warmed up" });
            using var response = await client.SendAsync(request, t);
            return response.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(30), () => "the API to accept a first event");
        await DrainAsync();
        return client;
    }

    public static HttpRequestMessage Post(string path, object body, string? basicKey = null, string contentType = "application/json") =>
        new(HttpMethod.Post, path)
        {
            Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, contentType),
            Headers = { Authorization = basicKey is null ? null : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basicKey + ":"))) },
        };

    public static HttpRequestMessage Track(string writeKey, object body) => Post("/v1/track", body, writeKey);

    /// <summary>
    /// A POST that reaches the API from <paramref name="peer"/>: the in-process server has no socket, so its
    /// connection's address is what the test sets here (null, as TestServer leaves it, when none is given), and the
    /// forwarded headers middleware and the write path see it as Kestrel would show a remote client's.
    /// </summary>
    /// <returns>The status and the body of the answer.</returns>
    public async Task<(int Status, string Body)> PostFromAsync(IPAddress? peer, string path, object body, string writeKey, Dictionary<string, string>? headers = null)
    {
        var json = Encoding.UTF8.GetBytes(body as string ?? JsonSerializer.Serialize(body));
        var context = await Server.SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = peer;
            c.Request.Method = HttpMethods.Post;
            c.Request.Path = path;
            c.Request.ContentType = "application/json";
            c.Request.ContentLength = json.Length;
            c.Request.Headers.Authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":"));
            foreach (var (name, value) in headers ?? []) c.Request.Headers[name] = value;
            c.Request.Body = new MemoryStream(json);
        });
        using var reader = new StreamReader(context.Response.Body);
        return (context.Response.StatusCode, await reader.ReadToEndAsync());
    }

    /// <summary>Takes every message now on the test's queue and returns the events they carry.</summary>
    public async Task<List<JsonElement>> DrainAsync()
    {
        var events = new List<JsonElement>();
        await using var connection = await Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(Queue, autoAck: true) is { } message)
        {
            using var envelope = JsonDocument.Parse(message.Body);
            foreach (var e in envelope.RootElement.GetProperty("message").GetProperty("events").EnumerateArray())
                events.Add(e.Clone());
        }
        return events;
    }

    /// <summary>
    /// Drains the queue until <paramref name="count"/> events arrived or <paramref name="within"/> passed, and returns
    /// what arrived without failing: the caller asserts on it, and fewer than <paramref name="count"/> may be the point.
    /// </summary>
    public async Task<List<JsonElement>> EventsOnQueueAsync(int count, TimeSpan? within = null)
    {
        var events = new List<JsonElement>();
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            events.AddRange(await DrainAsync());
            if (events.Count >= count || DateTime.UtcNow >= deadline) return events;
            await Task.Delay(100);
        }
    }

    public static ConnectionFactory Broker() => new() { HostName = "127.0.0.1", Port = TestStack.AmqpPort, UserName = "guest", Password = "guest" };

    protected override void Dispose(bool disposing)
    {
        if (disposing) _clients.ForEach(c => c.Dispose());
        base.Dispose(disposing);
        if (!disposing) return;
        using var connection = Broker().CreateConnectionAsync().GetAwaiter().GetResult();
        using var channel = connection.CreateChannelAsync().GetAwaiter().GetResult();
        channel.QueueDeleteAsync(Queue).GetAwaiter().GetResult();
        channel.ExchangeDeleteAsync(Queue).GetAwaiter().GetResult();
    }
}
