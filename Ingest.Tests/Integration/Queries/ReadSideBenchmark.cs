using System.Diagnostics;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Dapper;
using Ingest.Api.Queries;
using Ingest.Database.Keys;
using Ingest.Tests.Integration.Api;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Ingest.Database.Migrations;

// Outside the Queries namespace on purpose: a run filtered with FullyQualifiedName~Queries must not start the 1M-row benchmark.
namespace Ingest.Tests.Integration.ReadBenchmark;

/// <summary>
/// Query latency of every read endpoint on 1,000,000 stored events, in a scratch database of its own (created, filled with
/// generate_series, dropped). Not part of the normal run: deploy/test.sh --filter "TestCategory=Benchmark".
/// Prints p50/p99 per endpoint and the plans of the main queries (EXPLAIN ANALYZE), also to .local/read-benchmark.txt.
/// </summary>
[Category("Benchmark"), NonParallelizable]
public sealed class ReadSideBenchmark
{
    const int EventCount = 1_000_000;
    const string Database = "ingest_read_bench";

    const string GenerateEvents = """
        insert into events (source_id, message_id, type, event, name, user_id, anonymous_id, "timestamp", received_at, stored_at, properties, context)
        select 'bench',
               'msg-' || i,
               case when i % 20 = 0 then 'page' when i % 20 = 1 then 'identify' else 'track' end,
               case when i % 20 > 1 then 'Event ' || (i * 7 % 50) end,
               case when i % 20 = 0 then 'Page ' || (i % 30) end,
               case when i % 5 <> 0 then 'u' || (hashint4(i) & 65535) end,
               case when i % 5 = 0 or i % 3 = 0 then 'a' || (hashint4(i + 1) & 131071) end,
               ts, ts, ts,
               jsonb_build_object('plan', case when i % 2 = 0 then 'pro' else 'free' end, 'n', i),
               '{"library":{"name":"analytics.js","version":"4.1.0"}}'::jsonb
        from generate_series(1, @Count) as i,
             lateral (select now() - interval '90 days' * ((hashint4(i * 31) & 1048575) / 1048576.0) as ts) t
        """;

    NpgsqlDataSource _db = null!;
    ApiHost _api = null!;
    HttpClient _client = null!;
    string _readKey = null!;
    readonly StringBuilder _report = new();

    [OneTimeSetUp]
    public async Task Fill()
    {
        await TestStack.DropDatabaseAsync(Database);
        await TestStack.CreateDatabaseAsync(Database);
        _db = NpgsqlDataSource.Create(TestStack.ConnectionStringFor(Database) + ";Command Timeout=600");
        await new Migrator(_db, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        var write = ApiKey.New("write");
        _readKey = ApiKey.New("read");
        await using (var conn = await _db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("insert into sources (id, name) values ('bench', 'bench'), ('other', 'other')");
            await conn.ExecuteAsync("insert into api_keys (key_hash, key_prefix, source_id, scope) values (@Hash, @Prefix, 'bench', @Scope)",
                new[] { (Key: write, Scope: "write"), (Key: _readKey, Scope: "read") }.Select(k => new { Hash = ApiKey.Hash(k.Key), Prefix = k.Key[..10], k.Scope }));
            var clock = Stopwatch.StartNew();
            await conn.ExecuteAsync(GenerateEvents, new { Count = EventCount }, commandTimeout: 1800);
            await conn.ExecuteAsync("""
                insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at)
                select 'other', 'o-' || i, 'track', 'Event 1', 'u1', now() - interval '1 minute' * i, now() from generate_series(1, 100000) i
                """, commandTimeout: 600);
            await conn.ExecuteAsync("""
                insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, inserted)
                select gen_random_uuid(), 'bench', now() - interval '1 second' * i, now(), case when i % 50 = 0 then 'failed' else 'committed' end, 1, 500, 500
                from generate_series(1, 100000) i;
                insert into quarantined_events (source_id, message_id, raw, reason, transaction_id, quarantined_at)
                select 'bench', 'q-' || i, '{}', 'value out of range', gen_random_uuid(), now() - interval '1 minute' * i from generate_series(1, 10000) i;
                """, commandTimeout: 1800);
            foreach (var table in new[] { "events", "ingest_transactions", "quarantined_events" })
                await conn.ExecuteAsync($"vacuum analyze {table}", commandTimeout: 1800);
            _report.AppendLine($"Generated {EventCount:N0} events of source 'bench' (+100,000 of another source, 100,000 transactions, 10,000 quarantined) in {clock.Elapsed.TotalSeconds:0} s");
        }
        _api = new ApiHost(new() { ["ConnectionStrings:Postgres"] = TestStack.ConnectionStringFor(Database) });
        _client = await _api.StartAsync(write);
    }

    [OneTimeTearDown]
    public async Task Drop()
    {
        var path = Path.Combine(TestStack.RepoRoot, ".local", "read-benchmark.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, _report.ToString());
        await TestContext.Out.WriteLineAsync(_report.ToString());
        _client?.Dispose();
        _api?.Dispose();
        if (_db is not null) await _db.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await TestStack.DropDatabaseAsync(Database);
    }

    HttpRequestMessage Get(string path, string? accept = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", _readKey) } };
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    [Test, Order(1)]
    public async Task Latency_of_each_endpoint_on_a_million_events()
    {
        var random = new Random(1);
        var now = DateTime.UtcNow;
        string? cursor = null;
        var endpoints = new (string Name, int Runs, Func<Task<string>> Path, string? Accept)[]
        {
            ("GET /v1/events (newest 100)", 200, () => Task.FromResult("/v1/events"), null),
            ("GET /v1/events?limit=1000", 50, () => Task.FromResult("/v1/events?limit=1000"), null),
            ("GET /v1/events?cursor= (next page)", 200, () => Task.FromResult($"/v1/events?cursor={cursor}"), null),
            ("GET /v1/events?event=", 200, () => Task.FromResult($"/v1/events?event=Event%20{random.Next(50)}"), null),
            ("GET /v1/events?userId=", 200, () => Task.FromResult($"/v1/events?userId=u{random.Next(65536)}"), null),
            ("GET /v1/events?anonymousId=", 200, () => Task.FromResult($"/v1/events?anonymousId=a{random.Next(131072)}"), null),
            ("GET /v1/events?type=page&from&to (1 day)", 200, () => { var d = now.AddDays(-random.Next(1, 89)).Date; return Task.FromResult($"/v1/events?type=page&from={Iso(d)}&to={Iso(d.AddDays(1))}"); }, null),
            ("GET /v1/events?event&userId&from&to (30 days)", 200, () => Task.FromResult($"/v1/events?event=Event%20{random.Next(50)}&userId=u{random.Next(65536)}&from={Iso(now.AddDays(-30))}&to={Iso(now)}"), null),
            ("GET /v1/events/{messageId}", 200, () => Task.FromResult($"/v1/events/msg-{random.Next(1, EventCount)}"), null),
            ("GET /v1/events CSV (1 event name, 1 day, ~700 rows)", 50, () => { var d = now.AddDays(-random.Next(1, 89)).Date; return Task.FromResult($"/v1/events?event=Event%20{random.Next(50)}&from={Iso(d)}&to={Iso(d.AddDays(1))}"); }, "text/csv"),
            ("GET /v1/stats/events?interval=hour (1 day)", 100, () => { var d = now.AddDays(-random.Next(1, 89)).Date; return Task.FromResult($"/v1/stats/events?interval=hour&from={Iso(d)}&to={Iso(d.AddDays(1))}"); }, null),
            ("GET /v1/stats/events?interval=day (30 days)", 30, () => Task.FromResult($"/v1/stats/events?interval=day&from={Iso(now.AddDays(-30))}&to={Iso(now)}"), null),
            ("GET /v1/stats/events?interval=day&event= (90 days)", 30, () => Task.FromResult($"/v1/stats/events?interval=day&event=Event%20{random.Next(50)}&from={Iso(now.AddDays(-90))}&to={Iso(now)}"), null),
            ("GET /v1/stats/users (30 days)", 20, () => Task.FromResult($"/v1/stats/users?from={Iso(now.AddDays(-30))}&to={Iso(now)}"), null),
            ("GET /v1/stats/users (7 days)", 20, () => Task.FromResult($"/v1/stats/users?from={Iso(now.AddDays(-7))}&to={Iso(now)}"), null),
            ("GET /v1/transactions?status=failed", 200, () => Task.FromResult("/v1/transactions?status=failed"), null),
            ("GET /v1/quarantine", 200, () => Task.FromResult("/v1/quarantine"), null),
        };
        // a cursor 20,000 rows deep; cursors are bound to the filters, not to the limit, so it serves the default query too
        for (var i = 0; i < 20; i++)
        {
            using var page = await _client.SendAsync(Get(cursor is null ? "/v1/events?limit=1000" : $"/v1/events?limit=1000&cursor={cursor}"));
            cursor = JsonDocument.Parse(await page.Content.ReadAsStringAsync()).RootElement.GetProperty("nextCursor").GetString();
        }

        _report.AppendLine().AppendLine($"{"endpoint",-52} {"runs",5} {"p50 ms",8} {"p99 ms",8} {"max ms",8}");
        foreach (var (name, runs, path, accept) in endpoints)
        {
            for (var i = 0; i < 5; i++) await TimeAsync(await path(), accept); // warm-up
            var times = new List<double>();
            for (var i = 0; i < runs; i++) times.Add(await TimeAsync(await path(), accept));
            times.Sort();
            _report.AppendLine($"{name,-52} {runs,5} {Percentile(times, 0.50),8:0.0} {Percentile(times, 0.99),8:0.0} {times[^1],8:0.0}");
        }
        _report.AppendLine().AppendLine(await StreamLatencyAsync());
    }

    async Task<double> TimeAsync(string path, string? accept)
    {
        var clock = Stopwatch.StartNew();
        using var response = await _client.SendAsync(Get(path, accept), HttpCompletionOption.ResponseContentRead);
        var body = await response.Content.ReadAsByteArrayAsync();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        Assert.That((int)response.StatusCode, Is.EqualTo(200).Or.EqualTo(404), $"{path}: {Encoding.UTF8.GetString(body)}");
        return elapsed;
    }

    static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>Time from the insert's commit to the event on the live tail, with 1M rows in the table.</summary>
    async Task<string> StreamLatencyAsync()
    {
        var request = Get("/v1/events/stream", "text/event-stream");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line && !line.StartsWith(": streaming", StringComparison.Ordinal)) { }
        var times = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            await using var conn = await _db.OpenConnectionAsync();
            var clock = Stopwatch.StartNew();
            var id = await conn.ExecuteScalarAsync<long>("""
                insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at)
                values ('bench', @m, 'track', 'Tailed', 'u1', now(), now()) returning id
                """, new { m = Guid.NewGuid().ToString() });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            while (await reader.ReadLineAsync(timeout.Token) is { } line && !(line.StartsWith("id: ", StringComparison.Ordinal) && line.EndsWith($".{id}", StringComparison.Ordinal))) { }
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return $"{"live tail: insert+commit -> SSE event",-52} {times.Count,5} {Percentile(times, 0.50),8:0.0} {Percentile(times, 0.99),8:0.0} {times[^1],8:0.0}";
    }

    [Test, Order(2)]
    public async Task Plans_of_the_main_queries()
    {
        var now = DateTime.UtcNow;
        var day = now.AddDays(-10).Date;
        string snapshot;
        await using (var c = await _db.OpenConnectionAsync())
            snapshot = (await c.ExecuteScalarAsync<string>("select pg_current_snapshot()::text"))!;
        var xmin = long.Parse(snapshot.Split(':')[0]);
        var plans = new (string Name, Type Owner, string Const, object Parameters)[]
        {
            ("events, no filter", typeof(EventsApi), "SelectEventsPage", Page()),
            ("events, event=", typeof(EventsApi), "SelectEventsPage", Page(evt: "Event 7")),
            ("events, userId=", typeof(EventsApi), "SelectEventsPage", Page(user: "u1234")),
            ("events, anonymousId=", typeof(EventsApi), "SelectEventsPage", Page(anon: "a4321")),
            ("events, type=page, 1 day", typeof(EventsApi), "SelectEventsPage", Page(type: "page", from: day, to: day.AddDays(1))),
            ("events, event + userId + 30 days", typeof(EventsApi), "SelectEventsPage", Page(evt: "Event 7", user: "u1234", from: now.AddDays(-30), to: now)),
            ("events, next page (cursor)", typeof(EventsApi), "SelectEventsPage", Page(after: now.AddDays(-45))),
            ("event by messageId", typeof(EventsApi), "SelectEventByMessageId", new { SourceId = "bench", MessageId = "msg-4242" }),
            ("stats/events hour, 1 day", typeof(StatsApi), "CountEventsPerBucket", new { Interval = "hour", SourceId = "bench", Event = (string?)null, From = new DateTimeOffset(day), To = new DateTimeOffset(day.AddDays(1)) }),
            ("stats/events day, event=, 90 days", typeof(StatsApi), "CountEventsPerBucket", new { Interval = "day", SourceId = "bench", Event = "Event 7", From = new DateTimeOffset(now.AddDays(-90)), To = new DateTimeOffset(now) }),
            ("stats/users, 30 days", typeof(StatsApi), "CountUsersPerDay", new { SourceId = "bench", From = new DateTimeOffset(now.AddDays(-30)), To = new DateTimeOffset(now) }),
            ("transactions, status=failed", typeof(TransactionsApi), "SelectTransactionsPage", new { Status = "failed", From = (DateTimeOffset?)null, To = (DateTimeOffset?)null, AfterStartedAt = (DateTimeOffset?)null, AfterId = (string?)null, Limit = 101 }),
            ("quarantine", typeof(QuarantineApi), "SelectQuarantinePage", new { SourceId = "bench", Replayed = (bool?)null, AfterQuarantinedAt = (DateTimeOffset?)null, AfterId = (long?)null, Limit = 101 }),
            ("live tail read, 50 transactions behind", typeof(EventFeed), "SelectRowsCommittedBetween", new { AfterXact = xmin - 50, AfterId = 0L, Before = $"{xmin - 50}:{xmin - 50}:", Current = snapshot }),
            ("live tail catch-up, 50 transactions behind", typeof(EventStream), "SelectRowsToCatchUp", new { SourceId = "bench", Event = (string?)null, AfterXact = xmin - 50, AfterId = 0L, Before = $"{xmin - 50}:{xmin - 50}:", Joined = snapshot, ReplayWindow = TimeSpan.FromMinutes(10), Limit = 1000 }),
        };
        await using var conn = await _db.OpenConnectionAsync();
        foreach (var (name, owner, constName, parameters) in plans)
        {
            var sql = (string)owner.GetField(constName, BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!;
            var plan = await conn.QueryAsync<string>("explain (analyze, buffers, costs off) " + sql, parameters);
            Assert.That(plan, Is.Not.Empty, name);
            _report.AppendLine().AppendLine($"--- {name} ({owner.Name}.{constName})").AppendJoin('\n', plan).AppendLine();
        }
    }

    static object Page(string? type = null, string? evt = null, string? user = null, string? anon = null, DateTime? from = null, DateTime? to = null, DateTime? after = null) => new
    {
        SourceId = "bench", Type = type, Event = evt, UserId = user, AnonymousId = anon,
        From = from is null ? (DateTimeOffset?)null : new DateTimeOffset(from.Value),
        To = to is null ? (DateTimeOffset?)null : new DateTimeOffset(to.Value),
        AfterTimestamp = after is null ? (DateTimeOffset?)null : new DateTimeOffset(after.Value),
        AfterId = after is null ? (long?)null : 500_000L,
        Limit = 101,
    };
}
