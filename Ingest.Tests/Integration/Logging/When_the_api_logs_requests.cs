using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Ingest.ServiceDefaults.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Serilog.Debugging;

namespace Ingest.Tests.Integration.Logging;

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
            context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(LoggingExtensions.SourceClaim, "web-shop")], "Key"));
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

    static bool IsClientErrorCount(JsonElement e) => e.GetProperty("@mt").GetString()!.StartsWith("{Count} more requests answered 4xx", StringComparison.Ordinal);

    [Test]
    public async Task A_flood_of_4xx_is_logged_up_to_the_budget_a_second_and_the_rest_are_counted_in_one_warning()
    {
        const int sent = 60, perSecond = 5;
        await using var seq = await SeqListener.StartAsync(Ct);
        var (app, client) = await StartApiAsync(seq, Ct, ("Ingest:Logging:ClientErrorsPerSecond", perSecond.ToString()));
        var sending = Stopwatch.StartNew();
        using (client)
        await using (app)
        {
            for (var i = 0; i < sent; i++)
                Assert.That((await client.PostAsync(new Uri("/v1/track", UriKind.Relative), new StringContent("{}"), Ct)).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            sending.Stop();
            await seq.WaitForEventsAsync(e => e.Count(x => IsRequest(x, "/v1/track")) + e.Where(IsClientErrorCount).Sum(x => x.GetProperty("Count").GetInt32()) >= sent,
                TimeSpan.FromSeconds(20), Ct);
            await app.StopAsync(Ct);
        }

        var logged = seq.Events.Count(e => IsRequest(e, "/v1/track"));
        var counts = seq.Events.Where(IsClientErrorCount).ToList();
        var seconds = (int)Math.Ceiling(sending.Elapsed.TotalSeconds) + 1;
        Assert.That(logged, Is.InRange(perSecond, perSecond * seconds), $"at most {perSecond} a second logged one by one ({sending.Elapsed.TotalSeconds:0.0} s of requests)");
        Assert.That(counts, Is.Not.Empty);
        Assert.That(counts.Select(Level), Is.All.EqualTo("Warning"));
        Assert.That(counts.Where(c => c.TryGetProperty("RequestPath", out _) || c.TryGetProperty("@tr", out _)), Is.Empty, "a count belongs to no one request");
        Assert.That(counts.Sum(c => c.GetProperty("ByStatus").GetProperty("400").GetInt32()), Is.EqualTo(sent - logged), "every 4xx not logged one by one is counted, by status");
        Assert.That(counts.Sum(c => c.GetProperty("Count").GetInt32()), Is.EqualTo(sent - logged));
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
