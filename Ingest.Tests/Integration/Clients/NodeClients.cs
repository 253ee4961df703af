using System.ComponentModel;
using System.Diagnostics;

namespace Ingest.Tests.Integration.Clients;

/// <summary>
/// The client libraries of Clients/node: installed from npm with the committed package-lock.json into
/// .local/npm-clients (git-ignored), as a fresh clone in CI has only node and npm, and their scripts run from there.
/// </summary>
public static class NodeClients
{
    static string Committed => Path.Combine(TestStack.RepoRoot, "Ingest.Tests", "Integration", "Clients", "node");
    static string Installed => Path.Combine(TestStack.RepoRoot, ".local", "npm-clients");

    /// <summary>Copies package.json, the lock and the scripts, then `npm install` (quick when node_modules is already up to date).</summary>
    public static async Task InstallAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(Installed);
        foreach (var file in Directory.EnumerateFiles(Committed).Where(f => f.EndsWith(".js", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(Installed, Path.GetFileName(file)), overwrite: true);
        // `npm ci` would refuse this lock: npm leaves some platforms' optional packages of msgpackr-extract (under
        // bull, RudderStack's persistent queue) out of it. `npm install` keeps to the lock's versions all the same.
        // --ignore-scripts: msgpackr-extract's native build is optional and not what these tests are about.
        var (exitCode, output) = await RunAsync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts"], new Dictionary<string, string>(), TimeSpan.FromMinutes(5), ct);
        if (exitCode != 0) Assert.Fail($"npm install in {Installed} failed ({exitCode}):\n{output}");
    }

    /// <summary>Runs a script with the API's URL and a write key; returns its report once the library has sent everything and the process ended.</summary>
    public static async Task<ClientReport> RunAsync(string script, Uri api, string writeKey, string run, CancellationToken ct)
    {
        var report = Path.Combine(Installed, $"{Path.GetFileNameWithoutExtension(script)}-{run}.json");
        var (exitCode, output) = await RunAsync("node", [script], new Dictionary<string, string>
        {
            ["INGEST_URL"] = api.ToString().TrimEnd('/'),
            ["INGEST_WRITE_KEY"] = writeKey,
            ["INGEST_RUN"] = run,
            ["INGEST_REPORT"] = report,
        }, TimeSpan.FromMinutes(2), ct);
        if (exitCode != 0 || !File.Exists(report)) Assert.Fail($"node {script} ended with {exitCode} and {(File.Exists(report) ? "a" : "no")} report:\n{output}");
        TestContext.Out.WriteLine($"node {script}:\n{output}");
        return ClientReport.Read(report);
    }

    static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] arguments, Dictionary<string, string> environment, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = Installed };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        try
        {
            return await ProcessRunner.RunAsync(start, timeout, ct);
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"'{file}' could not be started ({e.Message}): these tests need Node.js 18 or later and npm on the PATH.");
            throw;
        }
        catch (TimeoutException e)
        {
            Assert.Fail(e.Message);
            throw;
        }
    }
}
