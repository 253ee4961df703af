using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ingest.ServiceDefaults.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog.Debugging;

namespace Ingest.Tests.Integration.Logging;

[CancelAfter(60_000)]
public class When_a_host_logs_with_seq_configured
{
    // AddIngestLogging turns Serilog's SelfLog on (standard error): do not leave it on for the next tests.
    [TearDown]
    public void TurnSelfLogOff() => SelfLog.Disable();

    static CancellationToken Ct => TestContext.CurrentContext.CancellationToken;

    /// <summary>A host over the shipped appsettings(.Environment).json of the test's output folder, plus <paramref name="settings"/>.</summary>
    static HostApplicationBuilder Builder(string environment, Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    [Test]
    public async Task Events_reach_seq_and_the_file_enriched_with_the_service_and_are_flushed_at_shutdown()
    {
        await using var seq = await SeqListener.StartAsync(Ct);
        var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingest-logs-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            var builder = Builder("Production", new()
            {
                ["Serilog:WriteTo:Console:Args:restrictedToMinimumLevel"] = "Fatal",
                ["Serilog:WriteTo:File:Args:path"] = Path.Combine(logs, "ingest-test-.log"),
                ["Serilog:WriteTo:Seq:Name"] = "Seq",
                ["Serilog:WriteTo:Seq:Args:serverUrl"] = seq.ServerUrl,
                ["Serilog:WriteTo:Seq:Args:apiKey"] = "ops-key",
                ["Serilog:WriteTo:Seq:Args:period"] = "00:10:00", // only the flush at shutdown can ship within this test
            });
            builder.AddIngestLogging("ingest-test");
            using (var host = builder.Build())
            {
                await host.StartAsync(Ct);
                host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Worker")
                    .LogInformation("Committed {EventCount} events in {ElapsedMs} ms", 7, 1.5);
                await host.StopAsync(Ct);
            }

            var committed = seq.Events.Single(e => e.GetProperty("@mt").GetString() == "Committed {EventCount} events in {ElapsedMs} ms");
            Assert.That(committed.GetProperty("Service").GetString(), Is.EqualTo("ingest-test"));
            Assert.That(committed.GetProperty("Host").GetString(), Is.EqualTo(Environment.MachineName));
            Assert.That(committed.GetProperty("Environment").GetString(), Is.EqualTo("Production"));
            Assert.That(committed.GetProperty("Version").GetString(), Is.Not.Empty);
            Assert.That(committed.GetProperty("SourceContext").GetString(), Is.EqualTo("Worker"));
            Assert.That(seq.Requests.Select(r => r.ApiKey), Is.All.EqualTo("ops-key"));

            var file = Directory.GetFiles(logs, "ingest-test-*.log").Single();
            var line = JsonDocument.Parse((await File.ReadAllLinesAsync(file, Ct)).Single(l => l.Contains("Committed", StringComparison.Ordinal))).RootElement;
            Assert.That(line.GetProperty("@m").GetString(), Is.EqualTo("Committed 7 events in 1.5 ms"));
            Assert.That(line.GetProperty("Service").GetString(), Is.EqualTo("ingest-test"));
        }
        finally
        {
            if (Directory.Exists(logs)) Directory.Delete(logs, recursive: true);
        }
    }

    [NonParallelizable]
    [TestCase("Production", true)]
    [TestCase("Development", false)]
    public void The_console_writes_clef_in_production_and_text_in_development(string environment, bool clef)
    {
        var logs = Path.Combine(Path.GetTempPath(), "ingest-logs-" + Guid.NewGuid().ToString("N"));
        var builder = Builder(environment, new() { ["Serilog:WriteTo:File:Args:path"] = Path.Combine(logs, "ingest-test-.log") });
        builder.AddIngestLogging("ingest-test");
        var console = new StringWriter();
        var original = Console.Out;
        Console.SetOut(console);
        try
        {
            using var host = builder.Build();
            host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Api").LogWarning("Broker not confirming for {ElapsedMs} ms", 250);
        }
        finally
        {
            Console.SetOut(original);
            if (Directory.Exists(logs)) Directory.Delete(logs, recursive: true);
        }

        var line = console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Single(l => l.Contains("Broker not confirming", StringComparison.Ordinal));
        if (clef)
        {
            var json = JsonDocument.Parse(line).RootElement;
            Assert.That(json.GetProperty("@m").GetString(), Is.EqualTo("Broker not confirming for 250 ms"));
            Assert.That(json.GetProperty("@l").GetString(), Is.EqualTo("Warning"));
            Assert.That(json.GetProperty("Service").GetString(), Is.EqualTo("ingest-test"));
        }
        else
        {
            Assert.That(line, Does.Match(@"^\[\d\d:\d\d:\d\d\.\d{3} WRN\] Api: Broker not confirming for 250 ms"));
        }
    }
}

[CancelAfter(60_000)]
public class When_the_api_logs_requests
{
    // AddIngestLogging turns Serilog's SelfLog on (standard error): do not leave it on for the next tests.
    [TearDown]
    public void TurnSelfLogOff() => SelfLog.Disable();

    const string WriteKey = "wk_live_SECRET_in_basic_auth";
    const string BearerKey = "wk_live_SECRET_in_bearer";
    const string QueryKey = "wk_live_SECRET_in_query";
    const string BodySecret = "SECRET_in_body";

    static CancellationToken Ct => TestContext.CurrentContext.CancellationToken;

    static async Task<(WebApplication App, HttpClient Client)> StartApiAsync(SeqListener seq, CancellationToken cancellationToken, params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var configuration = new Dictionary<string, string?>
        {
            ["Serilog:WriteTo:Console:Args:restrictedToMinimumLevel"] = "Fatal",
            ["Serilog:WriteTo:File:Args:restrictedToMinimumLevel"] = "Fatal",
            ["Serilog:WriteTo:Seq:Name"] = "Seq",
            ["Serilog:WriteTo:Seq:Args:serverUrl"] = seq.ServerUrl,
            ["Serilog:WriteTo:Seq:Args:period"] = "00:00:00.050",
            ["Ingest:Logging:SlowRequestMs"] = "150",
        };
        foreach (var (key, value) in settings) configuration[key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddIngestLogging("ingest-api");
        var app = builder.Build();
        app.UseIngestRequestLogging();
        app.MapGet("/ok", () => Results.Ok());
        app.MapPost("/v1/track", (HttpContext context) =>
        {
            context.Items[LoggingExtensions.SourceItem] = "web-shop";
            return Results.BadRequest();
        });
        app.MapGet("/slow", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(200, cancellationToken);
            return Results.Ok();
        });
        app.MapGet("/boom", string () => throw new InvalidOperationException("handler failed"));
        await app.StartAsync(cancellationToken);
        return (app, new HttpClient { BaseAddress = new Uri(app.Urls.Single()) });
    }

    static bool IsRequest(JsonElement e, string path) =>
        e.GetProperty("@mt").GetString()!.StartsWith("HTTP {RequestMethod} {RequestPath}", StringComparison.Ordinal) && e.GetProperty("RequestPath").GetString() == path;

    static string? Level(JsonElement e) => e.TryGetProperty("@l", out var level) ? level.GetString() : "Information";

    [Test]
    public async Task Failures_and_slow_requests_are_logged_fast_successes_are_not_and_no_secret_is_logged()
    {
        await using var seq = await SeqListener.StartAsync(Ct);
        var (app, client) = await StartApiAsync(seq, Ct);
        var traceId = ActivityTraceId.CreateRandom();
        using (client)
        await using (app)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
            for (var i = 0; i < 10; i++) Assert.That((await client.GetAsync(new Uri("/ok", UriKind.Relative), Ct)).StatusCode, Is.EqualTo(HttpStatusCode.OK));

            using var track = new HttpRequestMessage(HttpMethod.Post, $"/v1/track?writeKey={QueryKey}&debug=1") { Content = new StringContent($"{{\"writeKey\":\"{BodySecret}\"}}", Encoding.UTF8, "text/plain") };
            track.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BearerKey);
            track.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            Assert.That((await client.SendAsync(track, Ct)).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That((await client.GetAsync(new Uri("/slow", UriKind.Relative), Ct)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((await client.GetAsync(new Uri("/boom", UriKind.Relative), Ct)).StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));

            await seq.WaitForEventsAsync(e => e.Any(x => IsRequest(x, "/boom")), TimeSpan.FromSeconds(20), Ct);
            await app.StopAsync(Ct); // the logger is flushed at shutdown
        }

        var events = seq.Events;
        var rejected = events.Single(e => IsRequest(e, "/v1/track"));
        Assert.That(rejected.GetProperty("StatusCode").GetInt32(), Is.EqualTo(400));
        Assert.That(rejected.GetProperty("RequestMethod").GetString(), Is.EqualTo("POST"));
        Assert.That(rejected.GetProperty("SourceId").GetString(), Is.EqualTo("web-shop"));
        Assert.That(rejected.GetProperty("Route").GetString(), Is.EqualTo("/v1/track"));
        Assert.That(Level(rejected), Is.EqualTo("Warning"));
        Assert.That(rejected.GetProperty("Elapsed").GetDouble(), Is.GreaterThan(0));
        Assert.That(rejected.GetProperty("Service").GetString(), Is.EqualTo("ingest-api"));
        Assert.That(rejected.GetProperty("@tr").GetString(), Is.EqualTo(traceId.ToHexString()), "the request's trace id, from its traceparent");

        var failed = events.Single(e => IsRequest(e, "/boom"));
        Assert.That(failed.GetProperty("StatusCode").GetInt32(), Is.EqualTo(500));
        Assert.That(Level(failed), Is.EqualTo("Error"));
        Assert.That(failed.GetProperty("@x").GetString(), Does.Contain("handler failed"));

        Assert.That(Level(events.Single(e => IsRequest(e, "/slow"))), Is.EqualTo("Warning"));
        Assert.That(events.Where(e => IsRequest(e, "/ok")), Is.Empty, "fast 2xx are logged at Debug, below the default Information");

        var everything = string.Join("\n", seq.Requests.SelectMany(r => r.Lines));
        Assert.That(everything, Does.Not.Contain("SECRET"), "no write key, no Authorization header, no body, no query string");
        Assert.That(everything, Does.Not.Contain(Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":"))));
    }

    [Test]
    public async Task Fast_successes_are_logged_at_debug_when_the_request_log_is_turned_down_to_debug()
    {
        await using var seq = await SeqListener.StartAsync(Ct);
        var (app, client) = await StartApiAsync(seq, Ct, ("Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware", "Debug"));
        using (client)
        await using (app)
        {
            Assert.That((await client.GetAsync(new Uri("/ok", UriKind.Relative), Ct)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
            await app.StopAsync(Ct);
        }

        var ok = seq.Events.Single(e => IsRequest(e, "/ok"));
        Assert.That(Level(ok), Is.EqualTo("Debug"));
        Assert.That(ok.GetProperty("StatusCode").GetInt32(), Is.EqualTo(200));
        Assert.That(ok.GetProperty("Route").GetString(), Is.EqualTo("/ok"));
    }
}
