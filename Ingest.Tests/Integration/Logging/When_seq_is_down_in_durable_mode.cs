using System.Net;
using System.Text.Json;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Logging;

/// <summary>
/// The real API as a process, shipping to Seq in Serilog.Sinks.Seq's durable mode (<c>bufferBaseFilename</c>): events
/// logged while Seq is down wait in the buffer files, through an outage and through a restart of the host.
/// </summary>
[CancelAfter(300_000), NonParallelizable]
public sealed class When_seq_is_down_in_durable_mode
{
    string _buffer = null!;

    [SetUp]
    public void CreateBuffer() => _buffer = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingest-seq-buffer-" + Guid.NewGuid().ToString("N"))).FullName;

    [TearDown]
    public void DeleteBuffer() => Directory.Delete(_buffer, recursive: true);

    Dictionary<string, string> Durable(SeqListener seq) => new()
    {
        ["Serilog__WriteTo__Seq__Name"] = "Seq",
        ["Serilog__WriteTo__Seq__Args__serverUrl"] = seq.ServerUrl,
        ["Serilog__WriteTo__Seq__Args__bufferBaseFilename"] = Path.Combine(_buffer, "ingest-api"),
        ["Serilog__WriteTo__Seq__Args__period"] = "00:00:00.200",
    };

    static string? PathOf(JsonElement e) => e.TryGetProperty("RequestPath", out var path) ? path.GetString() : null;

    /// <summary>Requests to paths that exist nowhere: each is answered 404 and logged as a Warning with its path.</summary>
    static async Task<List<string>> RequestAsync(ApiProcess api, string run, int count, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = api.Url };
        var paths = Enumerable.Range(0, count).Select(i => $"/missing/{run}/{i}").ToList();
        foreach (var path in paths)
            Assert.That((await http.GetAsync(new Uri(path, UriKind.Relative), ct)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        return paths;
    }

    [Test]
    public async Task A_seq_down_for_30_seconds_receives_every_event_once_it_is_up(CancellationToken ct)
    {
        await using var seq = await SeqListener.StartAsync(ct);
        await seq.GoDownAsync();
        await using var api = await ApiProcess.StartAsync(Durable(seq), ct);
        var run = Guid.NewGuid().ToString("N");
        var paths = await RequestAsync(api, run, 50, ct);

        await Task.Delay(TimeSpan.FromSeconds(30), ct); // the outage: the sink fails and backs off meanwhile
        await seq.ComeUpAsync(ct);

        // The durable shipper backs off exponentially (5 s, 10 s, 20 s, 40 s… after the first failures), so the first
        // attempt after the outage can come some tens of seconds after Seq is back.
        var events = await seq.WaitForEventsAsync(all => paths.All(p => all.Any(e => PathOf(e) == p)), TimeSpan.FromSeconds(120), ct);
        var received = events.Select(PathOf).Where(p => p is not null && p.StartsWith($"/missing/{run}/", StringComparison.Ordinal)).ToList();
        Assert.That(received, Is.EquivalentTo(paths), "every event, once");
        Assert.That(api.HasExited, Is.False);
    }

    [Test]
    public async Task Events_logged_before_a_host_is_killed_reach_seq_after_it_restarts(CancellationToken ct)
    {
        await using var seq = await SeqListener.StartAsync(ct);
        await seq.GoDownAsync();
        var run = Guid.NewGuid().ToString("N");
        List<string> before;
        await using (var first = await ApiProcess.StartAsync(Durable(seq), ct))
        {
            before = await RequestAsync(first, run + "-first", 50, ct);
            // Every request logged (the console sink writes each event just before the Seq sink appends it to the buffer)…
            await Eventually.HoldsAsync(_ => Task.FromResult(before.All(p => first.Requests.Any(e => PathOf(e) == p))), TimeSpan.FromSeconds(20),
                () => "the first API to log every request on its console");
            await Task.Delay(500, ct);
            await first.KillAsync(); // …then SIGKILL: no shutdown, no flush
        }

        await using var second = await ApiProcess.StartAsync(Durable(seq), ct);
        var after = await RequestAsync(second, run + "-second", 10, ct);
        await seq.ComeUpAsync(ct);

        var expected = before.Concat(after).ToList();
        await seq.WaitForEventsAsync(all => expected.All(p => all.Any(e => PathOf(e) == p)), TimeSpan.FromSeconds(120), ct);
        Assert.That(second.HasExited, Is.False);
    }
}
