using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Logging;

/// <summary>The real API (in process) and the real worker (a child process) both shipping to one fake Seq.</summary>
public sealed class When_an_event_travels_the_pipeline
{
    [Test]
    public async Task The_request_log_and_the_worker_s_committed_transaction_share_the_request_s_trace_id(CancellationToken ct)
    {
        static bool From(JsonElement e, string service) => e.TryGetProperty("Service", out var s) && s.GetString() == service;
        await using var seq = await SeqListener.StartAsync(ct);
        var (_, key, _) = await TestSources.CreateAsync();
        using var api = new ApiHost(new()
        {
            ["Serilog:WriteTo:Seq:Name"] = "Seq",
            ["Serilog:WriteTo:Seq:Args:serverUrl"] = seq.ServerUrl,
            ["Serilog:WriteTo:Seq:Args:period"] = "00:00:00.100",
            // The traced request is a fast 200, logged at Debug.
            ["Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware"] = "Debug",
        });
        await using var worker = await WorkerProcess.StartAsync(api.Queue, new Dictionary<string, string>
        {
            ["Serilog__WriteTo__Seq__Name"] = "Seq",
            ["Serilog__WriteTo__Seq__Args__serverUrl"] = seq.ServerUrl,
            ["Serilog__WriteTo__Seq__Args__period"] = "00:00:00.100",
        });
        using var client = await api.StartAsync(key);
        // The warm-up event's transaction first, so that the traced request's events travel alone.
        await seq.WaitForEventsAsync(all => all.Any(e => From(e, "ingest-worker") && e.TryGetProperty("Status", out var s) && s.GetString() == "committed"), TimeSpan.FromSeconds(20), ct);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = ApiHost.Track(key, new { userId = "u1", @event = "Traced" });
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        using var response = await client.SendAsync(request, ct);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        static bool Names(JsonElement e, string traceId) => e.TryGetProperty("TraceIds", out var ids) && ids.EnumerateArray().Any(id => id.GetString() == traceId);
        var events = await seq.WaitForEventsAsync(all =>
                all.Any(e => From(e, "ingest-api") && e.TryGetProperty("@tr", out var tr) && tr.GetString() == traceId && e.TryGetProperty("RequestPath", out _))
                && all.Any(e => From(e, "ingest-worker") && e.TryGetProperty("Status", out var s) && s.GetString() == "committed" && Names(e, traceId)),
            TimeSpan.FromSeconds(20), ct);

        var request_log = events.First(e => From(e, "ingest-api") && e.TryGetProperty("@tr", out var tr) && tr.GetString() == traceId && e.TryGetProperty("RequestPath", out _));
        var committed = events.First(e => From(e, "ingest-worker") && e.TryGetProperty("Status", out var s) && s.GetString() == "committed" && Names(e, traceId));
        Assert.That(request_log.GetProperty("RequestPath").GetString(), Is.EqualTo("/v1/track"));
        Assert.That(request_log.GetProperty("StatusCode").GetInt32(), Is.EqualTo(200));
        Assert.That(committed.GetProperty("@tr").GetString(), Is.EqualTo(traceId), "a transaction of one request's events continues that request's trace");
    }
}
