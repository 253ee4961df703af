using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Ingest.Tests.Integration;

/// <summary>
/// One of this solution's hosts as a child process (`dotnet Ingest.X.dll` from the test's output folder) on a loopback
/// port of its own, pointed at the run's PostgreSQL and RabbitMQ: its output captured line by line, and its log, CLEF
/// on the console as in production, read back as events. <see cref="Api.ApiProcess"/> and
/// <see cref="Worker.WorkerProcess"/> add what is particular to each host.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentQueue<string> _text = new();
    readonly ConcurrentQueue<JsonElement> _log = new();

    HostProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string Output => string.Join('\n', _text);

    /// <summary>The structured log events so far, as the console writes them in production: CLEF, properties at the top level.</summary>
    public IReadOnlyList<JsonElement> Log => _log.ToArray();

    /// <param name="dll">The host's assembly beside the tests' (Ingest.Api.dll, Ingest.Worker.dll).</param>
    /// <param name="queue">The broker queue it sends to or consumes.</param>
    /// <param name="defaults">What this host needs over the defaults here, named as in appsettings ("Ingest:Keys:RefreshInterval").</param>
    /// <param name="settings">The test's own, over all the others, named as a deployment names them ("Ingest__Worker__MessageLimit").</param>
    public static HostProcess Start(string dll, string queue, IDictionary<string, string?> defaults, IDictionary<string, string>? settings)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, dll)}\"")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var configuration = new Dictionary<string, string?>(TestStack.HostSettings(queue))
        {
            ["ASPNETCORE_URLS"] = url.ToString(),
            // CLEF on the console whatever the environment, as in production.
            ["Serilog:WriteTo:Console:Args:formatter:type"] = "Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact",
        };
        foreach (var (key, value) in defaults) configuration[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) configuration[key.Replace("__", ":", StringComparison.Ordinal)] = value;
        foreach (var (key, value) in configuration) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var host = new HostProcess(Process.Start(start)!, url);
        host._process.OutputDataReceived += (_, e) => host.Capture(e.Data);
        host._process.ErrorDataReceived += (_, e) => host.Capture(e.Data);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails at once, with the output, if the process exits.</summary>
    public Task WaitUntilAsync(Func<CancellationToken, Task<bool>> condition, string what) =>
        Eventually.HoldsAsync(async ct =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"{what}: the process exited with {_process.ExitCode}:\n{Output}");
            return await condition(ct);
        }, TimeSpan.FromSeconds(60), () => $"{what}:\n{Output}");

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

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the process to exit (after a signal sent some other way).</summary>
    public async Task WaitForExitAsync(CancellationToken ct) => await _process.WaitForExitAsync(ct);

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
