using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// Ingest.Worker as a child process (`dotnet Ingest.Worker.dll`), as it runs in production: its own queue, the run's
/// database, its log as JSON lines captured here. It can be stopped gracefully (SIGTERM) or killed (SIGKILL).
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentQueue<JsonElement> _log = new();
    readonly ConcurrentQueue<string> _text = new();

    WorkerProcess(Process process, int httpPort)
    {
        _process = process;
        HttpPort = httpPort;
    }

    public int Id => _process.Id;
    public int HttpPort { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>The worker_host it writes into ingest_transactions.</summary>
    public string WorkerHost => $"{Environment.MachineName}/{_process.Id}";

    /// <summary>The structured log events so far, as the console writes them in production: CLEF, properties at the top level.</summary>
    public IReadOnlyList<JsonElement> Log => _log.ToArray();

    public IEnumerable<JsonElement> Transactions(string status) =>
        Log.Where(e => e.TryGetProperty("Status", out var s) && s.GetString() == status);

    public string Output => string.Join('\n', _text);

    public static async Task<WorkerProcess> StartAsync(string queue, IDictionary<string, string>? settings = null, bool waitUntilReady = true)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", $"\"{TestStack.WorkerDll}\"")
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
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Serilog__MinimumLevel__Default"] = "Information",
            ["Serilog__MinimumLevel__Override__MassTransit"] = "Warning",
            ["Serilog__MinimumLevel__Override__Microsoft"] = "Warning",
            ["Serilog__WriteTo__Console__Args__formatter__type"] = "Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) env[key] = value;
        foreach (var (key, value) in env) start.Environment[key] = value;

        var worker = new WorkerProcess(Process.Start(start)!, port);
        worker._process.OutputDataReceived += (_, e) => worker.Capture(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.Capture(e.Data);
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        if (waitUntilReady) await worker.WaitUntilReadyAsync();
        return worker;
    }

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

    /// <summary>GET a health endpoint: the status code and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(path, ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    public async Task WaitUntilReadyAsync()
    {
        await Eventually.HoldsAsync(async ct =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"the worker exited with {_process.ExitCode}:\n{Output}");
            try
            {
                return (await GetAsync("/health/ready", ct)).Status == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), () => $"the worker did not become ready:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown code runs; RabbitMQ requeues whatever the worker had not acknowledged.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an orchestrator stops a container: the host shuts down gracefully.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        var (exitCode, output) = await TestStack.RunAsync("kill", $"-TERM {_process.Id}", new Dictionary<string, string>());
        if (exitCode != 0) throw new InvalidOperationException($"kill -TERM failed: {output}");
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
