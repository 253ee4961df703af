using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Ingest.Testing.Hosts;

/// <summary>
/// One of this solution's hosts (Ingest.Api, Ingest.Worker) as a child process, `dotnet &lt;dll&gt;`, on a loopback port
/// of its own: its output captured line by line (and its log, when it writes CLEF on the console as in production,
/// read back as events), or written to a file for a long run. Ingest.Tests' ApiProcess and WorkerProcess and
/// StressTests' PipelineUnderTest add what is particular to each use.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentQueue<string> _text = new();
    readonly ConcurrentQueue<JsonElement> _log = new();
    readonly TextWriter? _file;

    HostProcess(Process process, Uri url, string? logPath)
    {
        _process = process;
        Url = url;
        LogPath = logPath;
        if (logPath is not null) _file = TextWriter.Synchronized(new StreamWriter(logPath) { AutoFlush = true });
    }

    public Uri Url { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>The file the output goes to, when it is not kept in memory.</summary>
    public string? LogPath { get; }

    /// <summary>The output so far; the last 20 lines of the file when it goes to one.</summary>
    public string Output => LogPath is null ? string.Join('\n', _text) : string.Join('\n', File.ReadLines(LogPath).TakeLast(20));

    /// <summary>The structured log events so far, as the console writes them in production: CLEF, properties at the top level.</summary>
    public IReadOnlyList<JsonElement> Log => _log.ToArray();

    /// <param name="dll">The host's assembly (Ingest.Api.dll, Ingest.Worker.dll); it runs in its folder.</param>
    /// <param name="settings">
    /// Its configuration over appsettings, later over earlier, named as in appsettings ("Ingest:Keys:RefreshInterval")
    /// or as a deployment names them ("Ingest__Worker__MessageLimit"); passed as environment variables.
    /// </param>
    /// <param name="logPath">Where the output goes, for a run too long to keep it in memory; null: kept here (<see cref="Output"/>, <see cref="Log"/>).</param>
    /// <param name="url">Where it listens; a free loopback port by default.</param>
    public static HostProcess Start(string dll, IEnumerable<KeyValuePair<string, string?>> settings, string? logPath = null, Uri? url = null)
    {
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is missing: build the solution ({Repo.Configuration}) first.", dll);
        url ??= FreePort.LoopbackUrl();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var configuration = new Dictionary<string, string?>();
        foreach (var (key, value) in settings) configuration[key.Replace("__", ":", StringComparison.Ordinal)] = value;
        configuration["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/');
        foreach (var (key, value) in configuration) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var host = new HostProcess(Process.Start(start) ?? throw new InvalidOperationException($"dotnet {dll} did not start"), url, logPath);
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
            if (_process.HasExited)
            {
                await Task.Delay(200, CancellationToken.None); // let the last lines arrive
                throw new InvalidOperationException($"{what}: the process exited with {_process.ExitCode}:\n{Output}");
            }
            return await condition(ct);
        }, TimeSpan.FromSeconds(60), () => $"{what}:\n{Output}");

    /// <summary>Waits until GET /health/ready answers 200 (at most 60 s).</summary>
    public async Task WaitUntilReadyAsync(string what, CancellationToken ct = default)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        await WaitUntilAsync(async t =>
        {
            using var response = await http.GetAsync("/health/ready", t);
            return response.StatusCode == HttpStatusCode.OK;
        }, what);
        ct.ThrowIfCancellationRequested();
    }

    void Capture(string? line)
    {
        if (_file is not null)
        {
            if (line is not null) _file.WriteLine(line);
            return;
        }
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
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // it had already gone
        }
        _process.Dispose();
        if (_file is not null) await _file.DisposeAsync();
    }
}
