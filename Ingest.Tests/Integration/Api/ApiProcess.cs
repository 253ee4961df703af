using System.Net;
using System.Text.Json;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// Ingest.Api as a child process (`dotnet Ingest.Api.dll`) on a loopback port, as a client that is not .NET meets it,
/// with memory of its own to read from /proc: the run's database and a queue of its own (for a
/// <see cref="WorkerProcess"/> to consume), every request logged as a CLEF line captured here.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    readonly HostProcess _host;

    ApiProcess(HostProcess host, string queue)
    {
        _host = host;
        Queue = queue;
    }

    public Uri Url => _host.Url;
    public int Id => _host.Id;
    public string Queue { get; }
    public bool HasExited => _host.HasExited;
    public string Output => _host.Output;

    /// <summary>The events logged at Error or Fatal, each as its message and the first line of its exception.</summary>
    public IEnumerable<string> Errors => _host.Log
        .Where(e => e.TryGetProperty("@l", out var level) && level.GetString() is "Error" or "Fatal")
        .Select(e => $"{e.GetProperty("@m").GetString()} {(e.TryGetProperty("@x", out var x) ? x.GetString()!.Split('\n')[0] : "")}");

    /// <summary>The request log: one event per request, with RequestMethod, RequestPath, StatusCode and SourceId.</summary>
    public IEnumerable<JsonElement> Requests => _host.Log.Where(e => e.TryGetProperty("RequestPath", out _));

    /// <param name="settings">Environment variables over the defaults below (e.g. Ingest__RateLimit__EventsPerSecond); the queue is one of its own unless Ingest__Broker__Queue names one.</param>
    public static Task<ApiProcess> StartAsync(IDictionary<string, string>? settings = null, CancellationToken ct = default) => StartAsync(settings, atDefaultLogLevels: false, ct);

    /// <summary>The API logging at appsettings.json's levels, as deployed: fast 2xx not logged.</summary>
    public static Task<ApiProcess> StartAtDefaultLogLevelsAsync(CancellationToken ct = default) => StartAsync(null, atDefaultLogLevels: true, ct);

    static async Task<ApiProcess> StartAsync(IDictionary<string, string>? settings, bool atDefaultLogLevels, CancellationToken ct)
    {
        var queue = settings?.TryGetValue("Ingest__Broker__Queue", out var named) == true ? named : $"api-process-{Guid.NewGuid():N}";
        var configuration = ApiHost.KeySettings(queue);
        // Every request on its own line, not only the refused and the slow ones (fast 2xx are logged at Debug).
        if (!atDefaultLogLevels) configuration["Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware"] = "Debug";
        var api = new ApiProcess(TestStack.StartHost("Ingest.Api.dll", queue, configuration, settings), queue);
        await api.ReadyAsync(ct);
        return api;
    }

    Task ReadyAsync(CancellationToken ct) => _host.WaitUntilReadyAsync("the API was not ready", ct);

    /// <summary>The process's resident memory now (VmRSS) and its peak so far (VmHWM), in bytes, as the kernel counts them.</summary>
    public (long Resident, long Peak) Memory()
    {
        long resident = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{_host.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) resident = Kilobytes(line) * 1024;
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line) * 1024;
        }
        return (resident, peak);
    }

    static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Waits until the API stores events for this write key: one track event (user "warm-up") answered 200, which also
    /// means it has loaded the key and reached the broker.
    /// </summary>
    public async Task AcceptsAsync(string writeKey)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(10) };
        await _host.WaitUntilAsync(async ct =>
        {
            using var request = ApiHost.Track(writeKey, new { userId = "warm-up", @event = "Warmed up" });
            using var response = await http.SendAsync(request, ct);
            return response.StatusCode == HttpStatusCode.OK;
        }, "the API did not accept a first event");
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed.</summary>
    public Task KillAsync() => _host.KillAsync();

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await using var connection = await ApiHost.Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(Queue, ifUnused: false, ifEmpty: false);
        await channel.ExchangeDeleteAsync(Queue);
    }
}
