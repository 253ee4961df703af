using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// Ingest.Api as a child process (`dotnet Ingest.Api.dll` from its own build folder, as deploy/run.sh runs it), on
/// the run's database and a queue of its own, so that its memory is its own and can be read from /proc. Its console
/// goes to a log file under .local/fuzz/.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly StreamWriter _log;

    ApiProcess(Process process, Uri url, string logPath)
    {
        _process = process;
        Url = url;
        LogPath = logPath;
        _log = new StreamWriter(logPath) { AutoFlush = true };
    }

    public Uri Url { get; }
    public string LogPath { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The Ingest.Api.dll built beside this test assembly's configuration (bin/Release or bin/Debug).</summary>
    static string ApiDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            return Path.Combine(TestStack.RepoRoot, "Ingest.Api", "bin", configuration, "net10.0", "Ingest.Api.dll");
        }
    }

    public static async Task<ApiProcess> StartAsync(string queue, IDictionary<string, string> settings, CancellationToken ct)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet", [ApiDll])
        {
            WorkingDirectory = Path.GetDirectoryName(ApiDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/'),
            ["ConnectionStrings__Postgres"] = TestStack.ConnectionString,
            ["Ingest__Broker__Host"] = "127.0.0.1",
            ["Ingest__Broker__Port"] = TestStack.AmqpPort.ToString(),
            ["Ingest__Broker__Queue"] = queue,
            ["Ingest__Keys__RefreshInterval"] = "00:00:01",
            ["Ingest__Keys__SnapshotPath"] = Path.Combine(Path.GetTempPath(), $"{queue}-keys.json"),
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings) env[key] = value;
        foreach (var (key, value) in env) start.Environment[key] = value;

        var folder = Path.Combine(TestStack.RepoRoot, ".local", "fuzz");
        Directory.CreateDirectory(folder);
        var api = new ApiProcess(Process.Start(start)!, url, Path.Combine(folder, $"{queue}-api.log"));
        api._process.OutputDataReceived += (_, e) => api.Capture(e.Data);
        api._process.ErrorDataReceived += (_, e) => api.Capture(e.Data);
        api._process.BeginOutputReadLine();
        api._process.BeginErrorReadLine();
        await api.WaitUntilReadyAsync(ct);
        return api;
    }

    void Capture(string? line)
    {
        if (line is null) return;
        lock (_log) _log.WriteLine(line);
    }

    async Task WaitUntilReadyAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited) Assert.Fail($"Ingest.Api exited with {_process.ExitCode} before it was ready; log: {LogPath}");
            try
            {
                using var response = await http.GetAsync("/health/ready", ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // not answering yet
            }
            await Task.Delay(200, ct);
        }
        Assert.Fail($"Ingest.Api was not ready within 60 s; log: {LogPath}");
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

    static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}
