using System.Diagnostics;
using System.Net;
using System.Text;
using CsCheck;
using Dapper;
using Ingest.Tests.Integration.Api;
using WorkerProcess = Ingest.Tests.Integration.Worker.WorkerProcess;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// Property-based fuzzing of the write side (issue 10): thousands of generated requests, well-formed and not, plain and
/// compressed, posted to the real API (a process of its own, whose memory is read from /proc) with the real worker
/// storing what it accepts, while a well-behaved client of another source keeps posting.
/// INGEST_FUZZ_CASES (3,000), INGEST_FUZZ_CONCURRENCY (8), INGEST_FUZZ_MAX_RSS_MB (the bound on the API's memory).
/// </summary>
[TestFixture]
public sealed class When_hostile_and_odd_requests_are_posted
{
    static int Setting(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;

    static readonly int Cases = Setting("INGEST_FUZZ_CASES", 3_000);
    static readonly int Concurrency = Setting("INGEST_FUZZ_CONCURRENCY", 8);
    static readonly long MaxResidentBytes = Setting("INGEST_FUZZ_MAX_RSS_MB", 600) * 1024L * 1024;

    [Test]
    public async Task Each_gets_its_own_answer_and_every_accepted_event_is_stored_once()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(240 + Cases / 20));
        var ct = timeout.Token;
        var (source, writeKey, readKey) = await TestSources.CreateAsync();
        var (steadySource, steadyKey, _) = await TestSources.CreateAsync();
        await using var api = await ApiProcess.StartAsync(new Dictionary<string, string>
        {
            ["Ingest__RateLimit__EventsPerSecond"] = "0",
            // Warnings and errors only: thousands of requests, and a 5xx is logged as an error.
            ["Serilog__MinimumLevel__Override__Serilog.AspNetCore.RequestLoggingMiddleware"] = "Information",
        }, ct);
        await using var worker = await WorkerProcess.StartAsync(api.Queue);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(30) };
        await WaitUntilAcceptedAsync(http, writeKey, ct);
        await WaitUntilAcceptedAsync(http, steadyKey, ct);

        var run = new FuzzRun(http, source, writeKey, readKey);
        var steady = new SteadyStream(http, steadyKey);
        var idle = api.Memory().Resident;
        long highest = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sampling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                highest = Math.Max(highest, api.Memory().Resident);
                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);
        var steadyRun = steady.RunAsync(clients: 2, stop.Token);

        var clock = Stopwatch.StartNew();
        foreach (var found in FuzzRequests.Found()) await run.PostAsync(found);
        await Check.SampleAsync(FuzzRequests.Any(writeKey), run.PostAsync, iter: Cases, threads: Concurrency);
        var posting = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(steadyRun, sampling);
        var peak = api.Memory().Peak;

        var expected = run.Accepted.Keys.ToHashSet();
        var steadyIds = steady.MessageIds.ToHashSet();
        var (missing, duplicated, unasked) = await StorageAsync(source, expected, TimeSpan.FromSeconds(60 + Cases / 100), ct);
        var (steadyMissing, _, _) = await StorageAsync(steadySource, steadyIds, TimeSpan.FromSeconds(30), ct);
        var quarantined = await QuarantinedAsync(source, ct);

        var report = new StringBuilder()
            .AppendLine($"{run.Posted} fuzz requests ({Concurrency} at a time) in {posting.TotalSeconds:0.0} s, {run.Posted / posting.TotalSeconds:0} a second; " +
                        $"{steady.Requests} steady requests; {expected.Count} events accepted, {quarantined} of them quarantined; whole test {clock.Elapsed.TotalSeconds:0} s.")
            .AppendLine($"API memory (VmRSS): {idle / 1048576} MB idle after warm-up, {highest / 1048576} MB highest sampled, {peak / 1048576} MB peak (VmHWM); bound {MaxResidentBytes / 1048576} MB.")
            .AppendLine()
            .AppendLine(run.Table());
        var folder = Directory.CreateDirectory(Path.Combine(TestStack.RepoRoot, ".local", "fuzz")).FullName;
        var path = Path.Combine(folder, "report.md");
        await File.WriteAllTextAsync(path, report.ToString(), ct);
        TestContext.Out.WriteLine(report);
        await File.WriteAllLinesAsync(Path.Combine(folder, "violations.txt"),
            run.Violations.Select(v => $"{v.Problem}\n    {v.Case.Describe(100_000)}\n"), ct);
        await File.WriteAllTextAsync(Path.Combine(folder, "api.log"), api.Output, ct);

        Assert.Multiple(() =>
        {
            Assert.That(run.Violations.Select(v => $"{v.Problem}\n    {v.Case}").Take(30), Is.Empty,
                $"answers outside the contract: {run.Violations.Count} (all in .local/fuzz/violations.txt, the API's log in .local/fuzz/api.log)");
            Assert.That(steady.Failures.Take(10), Is.Empty, $"the steady client's requests not answered 200, of {steady.Requests}");
            Assert.That(missing.Take(20), Is.Empty, $"accepted events neither stored nor quarantined, of {expected.Count}");
            Assert.That(duplicated.Take(20), Is.Empty, "accepted events stored more than once");
            Assert.That(unasked.Take(20), Is.Empty, "events stored that no answer accepted");
            Assert.That(steadyMissing.Take(20), Is.Empty, $"the steady client's events not stored, of {steadyIds.Count}");
            Assert.That(peak, Is.LessThan(MaxResidentBytes), "the API's peak resident memory");
            Assert.That(api.HasExited, Is.False, "the API is still running");
            Assert.That(api.Errors.Take(10), Is.Empty, "errors the API logged");
        });
    }

    /// <summary>Posts a first event with the key until the API has loaded it.</summary>
    static async Task WaitUntilAcceptedAsync(HttpClient http, string key, CancellationToken ct) =>
        await Eventually.HoldsAsync(async _ =>
        {
            using var request = ApiHost.Track(key, new { userId = "fuzz", @event = "Key loaded", messageId = ProbeId });
            using var response = await http.SendAsync(request, ct);
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), () => "the API to accept the new key");

    const string ProbeId = "fuzz-key-probe";

    /// <summary>Waits until every expected event is stored or quarantined, or the deadline; then what is wrong.</summary>
    static async Task<(List<string> Missing, List<string> Duplicated, List<string> Unasked)> StorageAsync(string source, HashSet<string> expected, TimeSpan within, CancellationToken ct)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        Dictionary<string, long> stored = [];
        HashSet<string> quarantined = [];
        var deadline = DateTime.UtcNow + within;
        List<string> missing;
        do
        {
            stored = (await conn.QueryAsync<(string Id, long Count)>(new CommandDefinition(
                "select message_id, count(*) from events where source_id = @source group by message_id", new { source }, cancellationToken: ct))).ToDictionary(r => r.Id, r => r.Count);
            quarantined = (await conn.QueryAsync<string>(new CommandDefinition(
                "select message_id from quarantined_events where source_id = @source", new { source }, cancellationToken: ct))).ToHashSet();
            missing = expected.Where(id => !stored.ContainsKey(id) && !quarantined.Contains(id)).ToList();
            if (missing.Count == 0) break;
            await Task.Delay(500, ct);
        } while (DateTime.UtcNow < deadline);
        var duplicated = stored.Where(s => s.Value > 1).Select(s => $"{s.Key} × {s.Value}").ToList();
        var unasked = stored.Keys.Concat(quarantined).Where(id => id != ProbeId && !expected.Contains(id)).ToList();
        return (missing, duplicated, unasked);
    }

    static async Task<long> QuarantinedAsync(string source, CancellationToken ct)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from quarantined_events where source_id = @source", new { source }, cancellationToken: ct));
    }
}
