using System.Net;
using System.Text.Json;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// Ingest.Worker as a child process (`dotnet Ingest.Worker.dll`), as it runs in production: its own queue, the run's
/// database, its log as JSON lines captured here. It can be stopped gracefully (SIGTERM) or killed (SIGKILL).
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    readonly HostProcess _host;

    WorkerProcess(HostProcess host) => _host = host;

    public int Id => _host.Id;
    public int HttpPort => _host.Url.Port;
    public bool HasExited => _host.HasExited;
    public int ExitCode => _host.ExitCode;

    /// <summary>The worker_host it writes into ingest_transactions.</summary>
    public string WorkerHost => $"{Environment.MachineName}/{_host.Id}";

    /// <summary>The structured log events so far, as the console writes them in production: CLEF, properties at the top level.</summary>
    public IReadOnlyList<JsonElement> Log => _host.Log;

    public IEnumerable<JsonElement> Transactions(string status) =>
        Log.Where(e => e.TryGetProperty("Status", out var s) && s.GetString() == status);

    public string Output => _host.Output;

    /// <param name="atDefaultLogLevels">Log at appsettings.json's levels, as deployed, instead of everything under Microsoft at Warning.</param>
    public static async Task<WorkerProcess> StartAsync(string queue, IDictionary<string, string>? settings = null, bool waitUntilReady = true, bool atDefaultLogLevels = false)
    {
        var configuration = atDefaultLogLevels ? new Dictionary<string, string?>() : new Dictionary<string, string?>
        {
            ["Serilog:MinimumLevel:Default"] = "Information",
            ["Serilog:MinimumLevel:Override:MassTransit"] = "Warning",
            ["Serilog:MinimumLevel:Override:Microsoft"] = "Warning",
        };
        var worker = new WorkerProcess(TestStack.StartHost("Ingest.Worker.dll", queue, configuration, settings));
        if (waitUntilReady) await worker.WaitUntilReadyAsync();
        return worker;
    }

    /// <summary>GET a health endpoint: the status code and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = _host.Url, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(path, ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    public Task WaitUntilReadyAsync() =>
        _host.WaitUntilAsync(async ct => (await GetAsync("/health/ready", ct)).Status == HttpStatusCode.OK, "the worker did not become ready");

    /// <summary>SIGKILL: no shutdown code runs; RabbitMQ requeues whatever the worker had not acknowledged.</summary>
    public Task KillAsync() => _host.KillAsync();

    /// <summary>SIGTERM, as an orchestrator stops a container: the host shuts down gracefully.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        var (exitCode, output) = await TestStack.RunAsync("kill", $"-TERM {_host.Id}", new Dictionary<string, string>());
        if (exitCode != 0) throw new InvalidOperationException($"kill -TERM failed: {output}");
        using var cts = new CancellationTokenSource(timeout);
        await _host.WaitForExitAsync(cts.Token);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
