using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
    readonly Process _process;
    readonly ConcurrentQueue<string> _text = new();
    readonly ConcurrentQueue<JsonElement> _log = new();

    ApiProcess(Process process, Uri url, string queue)
    {
        _process = process;
        Url = url;
        Queue = queue;
    }

    public Uri Url { get; }
    public string Queue { get; }
    public bool HasExited => _process.HasExited;
    public string Output => string.Join('\n', _text);

    /// <summary>The request log: one event per request, with RequestMethod, RequestPath, StatusCode and SourceId.</summary>
    public IEnumerable<JsonElement> Requests => _log.Where(e => e.TryGetProperty("RequestPath", out _));

    /// <param name="settings">Environment variables over the defaults below (e.g. Ingest__RateLimit__EventsPerSecond).</param>
    public static async Task<ApiProcess> StartAsync(IDictionary<string, string>? settings = null, CancellationToken ct = default)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var queue = $"api-process-{Guid.NewGuid():N}";
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "Ingest.Api.dll")}\"")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = TestStack.ConnectionString,
            ["Ingest__Broker__Host"] = "127.0.0.1",
            ["Ingest__Broker__Port"] = TestStack.AmqpPort.ToString(),
            ["Ingest__Broker__Queue"] = queue,
            ["Ingest__Keys__RefreshInterval"] = "00:00:01",
            ["Ingest__Keys__SnapshotPath"] = Path.Combine(Path.GetTempPath(), $"{queue}-keys.json"),
            ["ASPNETCORE_URLS"] = url.ToString(),
            // CLEF on the console whatever the environment, as in production.
            ["Serilog__WriteTo__Console__Args__formatter__type"] = "Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact",
            // Every request on its own line, not only the refused and the slow ones (fast 2xx are logged at Debug).
            ["Serilog__MinimumLevel__Override__Serilog.AspNetCore.RequestLoggingMiddleware"] = "Debug",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) env[key] = value;
        foreach (var (key, value) in env) start.Environment[key] = value;

        var api = new ApiProcess(Process.Start(start)!, url, queue);
        api._process.OutputDataReceived += (_, e) => api.Capture(e.Data);
        api._process.ErrorDataReceived += (_, e) => api.Capture(e.Data);
        api._process.BeginOutputReadLine();
        api._process.BeginErrorReadLine();
        await api.ReadyAsync(ct);
        return api;
    }

    async Task ReadyAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.HoldsAsync(async t =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"the API exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await http.GetAsync("/health/ready", t);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
        }, TimeSpan.FromSeconds(60), () => $"the API was not ready:\n{Output}");
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>The process's resident memory now (VmRSS) and its peak so far (VmHWM), in bytes, as the kernel counts them.</summary>
    public (long Resident, long Peak) Memory()
    {
        long resident = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) resident = Kilobytes(line) * 1024;
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line) * 1024;
        }
        return (resident, peak);
    }

    static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

    void Capture(string? line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        _text.Enqueue(line);
        if (!line.StartsWith('{')) return;
        try
        {
            _log.Enqueue(JsonDocument.Parse(line).RootElement.Clone());
        }
        catch (JsonException)
        {
            // not a log event
        }
    }

    /// <summary>
    /// Waits until the API stores events for this write key: one track event (user "warm-up") answered 200, which also
    /// means it has loaded the key and reached the broker.
    /// </summary>
    public async Task AcceptsAsync(string writeKey)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.HoldsAsync(async ct =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"the API exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var request = ApiHost.Track(writeKey, new { userId = "warm-up", @event = "Warmed up" });
                using var response = await http.SendAsync(request, ct);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), () => $"the API did not accept a first event:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        await using var connection = await ApiHost.Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(Queue, ifUnused: false, ifEmpty: false);
        await channel.ExchangeDeleteAsync(Queue);
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
