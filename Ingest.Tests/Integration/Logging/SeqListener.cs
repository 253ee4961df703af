using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ingest.Tests.Integration.Logging;

/// <summary>
/// A stand-in for Seq's ingestion API on 127.0.0.1 and a port of its own (Seq itself cannot run here): answers
/// <c>POST /api/events/raw</c> (what Serilog.Sinks.Seq 9 sends) and <c>POST /ingest/clef</c> (what later versions
/// send) with <c>Content-Type: application/vnd.serilog.clef</c>, newline-delimited CLEF, 201 on success, and records
/// every request with its headers and lines. It can go down (the port closed, as a stopped Seq) and come back up
/// on the same port (<see cref="GoDownAsync"/>, <see cref="ComeUpAsync"/>).
/// </summary>
public sealed class SeqListener : IAsyncDisposable
{
    public sealed record Request(DateTimeOffset ReceivedAt, string Path, string? ContentType, string? ApiKey, IReadOnlyList<string> Lines);

    readonly int _port;
    readonly List<Request> _requests = [];
    readonly Lock _gate = new();
    WebApplication? _app;

    SeqListener(int port)
    {
        _port = port;
        ServerUrl = $"http://127.0.0.1:{port}";
    }

    public string ServerUrl { get; }

    public static async Task<SeqListener> StartAsync(CancellationToken cancellationToken)
    {
        var listener = new SeqListener(FreePort.Take());
        await listener.ComeUpAsync(cancellationToken);
        return listener;
    }

    /// <summary>Listens on the port again after <see cref="GoDownAsync"/>.</summary>
    public async Task ComeUpAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(ServerUrl);
        var app = builder.Build();
        app.MapPost("/api/events/raw", (Delegate)HandleAsync);
        app.MapPost("/ingest/clef", (Delegate)HandleAsync);
        await app.StartAsync(cancellationToken);
        _app = app;
    }

    /// <summary>Closes the port: connections are refused, as by a Seq that is stopped.</summary>
    public async Task GoDownAsync()
    {
        if (_app is not { } app) return;
        _app = null;
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }

    public IReadOnlyList<Request> Requests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    /// <summary>The CLEF events received, in arrival order.</summary>
    public IReadOnlyList<JsonElement> Events =>
        [.. Requests.SelectMany(r => r.Lines).Select(l => JsonDocument.Parse(l).RootElement)];

    /// <summary>Polls until the condition holds over the received events, or fails the test at the deadline.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitForEventsAsync(Func<IReadOnlyList<JsonElement>, bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await Eventually.HoldsAsync(_ =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(condition(Events));
        }, timeout, () => $"{Events.Count} events received in {Requests.Count} requests:\n" + string.Join('\n', Events.Select(Describe)));
        return Events;
    }

    static string Describe(JsonElement e) =>
        string.Join(' ', new[] { "Service", "@l", "@tr", "@mt" }.Select(p => e.TryGetProperty(p, out var v) ? v.ToString() : "-"));

    async Task<IResult> HandleAsync(HttpContext context)
    {
        if (context.Request.ContentType?.StartsWith("application/vnd.serilog.clef", StringComparison.Ordinal) != true)
            return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var line in lines)
        {
            try
            {
                using var _ = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                return Results.BadRequest(); // as Seq answers a payload it cannot read
            }
        }
        lock (_gate)
            _requests.Add(new Request(DateTimeOffset.UtcNow, context.Request.Path.Value ?? "", context.Request.ContentType,
                context.Request.Headers["X-Seq-ApiKey"].FirstOrDefault(), lines));
        return Results.Text("{\"MinimumLevelAccepted\":null}", "application/json", statusCode: StatusCodes.Status201Created);
    }

    public async ValueTask DisposeAsync() => await GoDownAsync();

}
