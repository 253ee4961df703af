using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ingest.Tests.Integration.Logging;

/// <summary>
/// A stand-in for Seq's ingestion endpoint on 127.0.0.1 and a free port (Seq itself cannot run here): records every
/// POST to /api/events/raw with its headers and CLEF lines, and answers 201, or what it is told: a status for the
/// next requests (<see cref="AnswerNext"/>), a status for all (<see cref="AnswerAll"/>), or a dropped connection,
/// as a Seq that is down looks to a client (<see cref="GoDown"/>). Reusable by any test that needs to see what
/// reached Seq, e.g. events found by trace id (<see cref="EventsWithTraceId"/>).
/// </summary>
public sealed class SeqListener : IAsyncDisposable
{
    public sealed record Request(DateTimeOffset ReceivedAt, string Method, string Path, string? ContentType, string? ApiKey, IReadOnlyList<string> Lines, int Status);

    readonly WebApplication _app;
    readonly ConcurrentQueue<int> _next = new();
    readonly List<Request> _requests = [];
    readonly Lock _gate = new();
    volatile int _status = StatusCodes.Status201Created;
    volatile bool _down;
    long _acceptedEventCount;

    SeqListener(WebApplication app) => _app = app;

    public string ServerUrl { get; private set; } = "";

    public static async Task<SeqListener> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var listener = new SeqListener(app);
        app.Run(listener.HandleAsync);
        await app.StartAsync(cancellationToken);
        listener.ServerUrl = app.Urls.Single();
        return listener;
    }

    /// <summary>The next requests get these statuses, in order; then the standing answer.</summary>
    public void AnswerNext(params int[] statuses)
    {
        foreach (var status in statuses) _next.Enqueue(status);
    }

    /// <summary>Every request gets this status from now on (201 is Seq's success).</summary>
    public void AnswerAll(int status)
    {
        _down = false;
        _status = status;
    }

    /// <summary>Connections are dropped without an answer until <see cref="AnswerAll"/>.</summary>
    public void GoDown() => _down = true;

    /// <summary>Lines in requests answered 2xx: cheap to poll, unlike <see cref="Events"/>.</summary>
    public long AcceptedEventCount => Interlocked.Read(ref _acceptedEventCount);

    public IReadOnlyList<Request> Requests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    /// <summary>The CLEF events of the requests answered 2xx, in arrival order.</summary>
    public IReadOnlyList<JsonElement> Events =>
        [.. Requests.Where(r => r.Status is >= 200 and < 300).SelectMany(r => r.Lines).Select(l => JsonDocument.Parse(l).RootElement)];

    public IReadOnlyList<JsonElement> EventsWithTraceId(string traceId) =>
        [.. Events.Where(e => e.TryGetProperty("@tr", out var tr) && tr.GetString() == traceId)];

    /// <summary>Polls until the condition holds over the accepted events, or fails the test at the deadline.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitForEventsAsync(Func<IReadOnlyList<JsonElement>, bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await Eventually.HoldsAsync(() => condition(Events), timeout, cancellationToken, () => $"{Events.Count} events received in {Requests.Count} requests");
        return Events;
    }

    public Task<IReadOnlyList<JsonElement>> WaitForEventCountAsync(int count, CancellationToken cancellationToken) =>
        WaitForEventsAsync(events => events.Count >= count, TimeSpan.FromSeconds(20), cancellationToken);

    async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var status = _down ? 0 : _next.TryDequeue(out var next) ? next : _status;
        lock (_gate)
            _requests.Add(new Request(DateTimeOffset.UtcNow, context.Request.Method, context.Request.Path.Value ?? "",
                context.Request.ContentType, context.Request.Headers["X-Seq-ApiKey"].FirstOrDefault(), lines, status));
        if (status == 0)
        {
            context.Abort();
            return;
        }
        if (status is >= 200 and < 300) Interlocked.Add(ref _acceptedEventCount, lines.Length);
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status201Created) await context.Response.WriteAsync("{\"MinimumLevelAccepted\":null}", context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>Polling with a deadline, in place of sleeps that stand in for a condition.</summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken, Func<string>? state = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Condition not met within {timeout}. {state?.Invoke()}");
            await Task.Delay(10, cancellationToken);
        }
    }
}
