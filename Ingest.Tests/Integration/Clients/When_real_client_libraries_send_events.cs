using System.Text.Json;
using Dapper;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Clients;

/// <summary>
/// Client libraries installed from npm (Clients/node/package.json), run by node as an application runs them, with
/// their default settings apart from the API's URL and the write key, against the API and the worker as processes
/// on loopback. Each sends 200 track, 3 identify and 3 page calls, each carrying the run's id and a sequence number.
/// </summary>
[TestFixture, CancelAfter(300_000)]
public sealed class When_real_client_libraries_send_events
{
    WorkerProcess _worker = null!;
    ApiProcess _api = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        await NodeClients.InstallAsync(CancellationToken.None);
        _api = await ApiProcess.StartAsync();
        _worker = await WorkerProcess.StartAsync(_api.Queue);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _api.DisposeAsync();
        await _worker.DisposeAsync();
    }

    [Test]
    public async Task RudderStacks_node_SDK_gzips_its_batches_and_every_event_is_stored_once(CancellationToken ct)
    {
        var (source, key, _) = await TestSources.CreateAsync();
        await _api.AcceptsAsync(key);

        var report = await NodeClients.RunAsync("rudderstack.js", _api.Url, key, source, ct);

        Assert.That(report.Defaults.GetProperty("gzip").GetBoolean(), Is.True, $"{report.Library} {report.Version} compresses by default");
        Assert.That(report.Requests, Is.Not.Empty.And.All.Matches<ClientReport.Request>(r => r.Path == "/v1/batch" && r.ContentEncoding == "gzip"),
            $"each request a gzipped batch:\n{Describe(report)}");
        await AssertEachEventIsStoredOnceAsync(source, report, ct);
    }

    [Test]
    public async Task Segments_node_library_batches_its_events_and_every_event_is_stored_once(CancellationToken ct)
    {
        var (source, key, _) = await TestSources.CreateAsync();
        await _api.AcceptsAsync(key);

        var report = await NodeClients.RunAsync("segment.js", _api.Url, key, source, ct);

        Assert.That(report.Requests, Has.Count.GreaterThan(1).And.All.Matches<ClientReport.Request>(r => r.Path == "/v1/batch"),
            $"the events sent in several batches:\n{Describe(report)}");
        await AssertEachEventIsStoredOnceAsync(source, report, ct);
    }

    /// <summary>
    /// The library's answer to each call was success, the API answered (and logged) each of its requests 200, and
    /// each event is stored exactly once as it was sent.
    /// </summary>
    async Task AssertEachEventIsStoredOnceAsync(string source, ClientReport report, CancellationToken ct)
    {
        Assert.Multiple(() =>
        {
            Assert.That(report.Requests.Where(r => r.Status != 200), Is.Empty, $"every request answered 200:\n{Describe(report)}");
            Assert.That(report.Events.Where(e => e.Outcome != "sent").Select(e => $"{e.Type} seq {e.Seq}: {e.Outcome}"), Is.Empty,
                $"the library reports each event sent:\n{Describe(report)}");
        });
        var expected = report.Events.Select(e => (e.Seq, e.Type, e.Name, e.UserId)).ToList();
        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        async Task<List<(int Seq, string Type, string? Name, string UserId)>> Stored(CancellationToken t) =>
            (await conn.QueryAsync<(int, string, string?, string)>(new CommandDefinition(StoredEventsOfRun, new { source }, cancellationToken: t))).ToList();
        await Eventually.HoldsAsync(async t => (await Stored(t)).Count >= expected.Count, TimeSpan.FromSeconds(60),
            () => $"{expected.Count} events stored");
        Assert.That(await Stored(ct), Is.EquivalentTo(expected), "each event stored once, with its type, name and user");

        var logged = _api.Requests.Where(r => r.TryGetProperty("SourceId", out var s) && s.GetString() == source
            && r.GetProperty("RequestPath").GetString() != "/v1/track"); // the warm-up event
        Assert.That(logged.Select(r => $"{r.GetProperty("RequestMethod").GetString()} {r.GetProperty("RequestPath").GetString()} {r.GetProperty("StatusCode").GetInt32()}"),
            Is.EquivalentTo(report.Requests.Select(r => $"{r.Method} {r.Path} 200")), "the API's request log: each of the library's requests, answered 200");
    }

    /// <summary>The run's events (the API's warm-up event left out): the run id is the source id.</summary>
    const string StoredEventsOfRun = """
        select coalesce(properties ->> 'seq', traits ->> 'seq')::int, type, coalesce(event, name), user_id
        from events
        where source_id = @source and coalesce(properties ->> 'run', traits ->> 'run') = @source
        """;

    static string Describe(ClientReport report) =>
        $"{report.Library} {report.Version}, defaults {report.Defaults}\n"
        + string.Join('\n', report.Requests) + "\n"
        + string.Join('\n', report.Events.GroupBy(e => e.Outcome).Select(g => $"{g.Count()} events: {g.Key}"))
        + (report.Unhandled.Count == 0 ? "" : "\nunhandled rejections: " + JsonSerializer.Serialize(report.Unhandled));
}
