using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using Ingest.Api.Events;
using Ingest.Api.LiveTail;
using Ingest.Api.Operations;
using StressTests.Pipeline;
using StressTests.Reports;
using StressTests.Runner;

namespace StressTests.Scenarios;

/// <summary>
/// Query latency of every read endpoint on 1,000,000 stored events (<see cref="Settings.ReadSideEvents"/>), in the
/// benchmark (deploy/bench.sh; alone: <c>deploy/bench.sh read-side</c>). A pipeline of its own, always (also under
/// bench.sh), in a scratch database filled with generate_series and dropped at the end. Each endpoint is a scenario of
/// the run's report (one client, its calls one after another); the live tail's latency from an insert's commit to its
/// SSE event another; the plans of the main queries (EXPLAIN ANALYZE) go to read-side-plans.md beside the report.
/// </summary>
[TestFixture, Category("Benchmark"), NonParallelizable]
public sealed class ReadSideBenchmark
{
    /// <summary>
    /// The events, stored over the last 90 days: in partitions made for those months first (migration 0105), with their
    /// keys, as an import must (0108), through which an event is found by its message id (0110).
    /// </summary>
    const string GenerateEvents = """
        select create_event_partitions('month', 2, now() - interval '90 days');
        with stored as (
            insert into events (source_id, message_id, type, event, name, user_id, anonymous_id, "timestamp", received_at, stored_at, properties, context)
            select @Source,
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
            returning source_id, message_id, stored_at)
        insert into event_keys (source_id, message_id, stored_at) select source_id, message_id, stored_at from stored
        """;

    /// <summary>A tenth as many events of another source, a tenth as many transactions (one in 50 failed), a hundredth as many quarantined.</summary>
    const string GenerateTheRest = """
        insert into sources (id, name) values (@Other, @Other);
        insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at)
        select @Other, 'o-' || i, 'track', 'Event 1', 'u1', now() - interval '1 minute' * i, now() from generate_series(1, @Count / 10) i;
        insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, inserted)
        select gen_random_uuid(), 'bench', now() - interval '1 second' * i, now(), case when i % 50 = 0 then 'failed' else 'committed' end, 1, 500, 500
        from generate_series(1, @Count / 10) i;
        insert into quarantined_events (source_id, message_id, raw, reason, transaction_id, quarantined_at)
        select @Source, 'q-' || i, '{}', 'value out of range', gen_random_uuid(), now() - interval '1 minute' * i from generate_series(1, @Count / 100) i
        """;

    const string InsertTailedEvent = """
        insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at)
        values (@Source, @MessageId, 'track', 'Tailed', 'u1', now(), now()) returning id
        """;

    PipelineUnderTest pipeline = null!;
    string source = null!;
    AuthenticationHeaderValue readKey = null!;

    static ScenarioRunner Runner => new(TestContext.Progress);

    static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [OneTimeSetUp]
    public async Task Fill()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        var ct = timeout.Token;
        pipeline = await PipelineUnderTest.StartAsync(privatePostgres: false, ct);
        source = (await pipeline.CreateSourceAsync("read", ct)).Id;
        readKey = Http.Bearer(await pipeline.CreateReadKeyAsync(source, ct));
        var clock = Stopwatch.StartNew();
        await using (var conn = await pipeline.Database.OpenConnectionAsync(ct))
        {
            var parameters = new { Source = source, Other = source + "-other", Count = Settings.ReadSideEvents };
            await conn.ExecuteAsync(new CommandDefinition(GenerateEvents, parameters, commandTimeout: 1800, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition(GenerateTheRest, parameters, commandTimeout: 1800, cancellationToken: ct));
            foreach (var table in new[] { "events", "ingest_transactions", "quarantined_events" })
                await conn.ExecuteAsync(new CommandDefinition($"vacuum analyze {table}", commandTimeout: 1800, cancellationToken: ct));
        }
        await TestContext.Progress.WriteLineAsync(F($"read side: generated {Settings.ReadSideEvents:N0} events of {source} (and a tenth of another source, transactions, a hundredth quarantined) in {clock.Elapsed.TotalSeconds:0} s"));
    }

    [OneTimeTearDown]
    public async Task Drop()
    {
        if (pipeline is not null) await pipeline.DisposeAsync();
    }

    [Test, Order(1), CancelAfter(1_200_000)]
    public async Task Every_read_endpoint_answers_on_a_million_events(CancellationToken ct)
    {
        var random = new Random(1);
        var now = DateTime.UtcNow;
        var events = Settings.ReadSideEvents;
        string? cursor = null;
        var endpoints = new (string Name, int Runs, Func<string> Path, string? Accept)[]
        {
            ("newest 100", 200, () => "/v1/events", null),
            ("limit=1000", 50, () => "/v1/events?limit=1000", null),
            ("next page (cursor 20,000 deep)", 200, () => $"/v1/events?cursor={cursor}", null),
            ("event=", 200, () => $"/v1/events?event=Event%20{random.Next(50)}", null),
            ("userId=", 200, () => $"/v1/events?userId=u{random.Next(65536)}", null),
            ("anonymousId=", 200, () => $"/v1/events?anonymousId=a{random.Next(131072)}", null),
            ("type=page&from&to (1 day)", 200, () => { var d = now.AddDays(-random.Next(1, 89)).Date; return $"/v1/events?type=page&from={Iso(d)}&to={Iso(d.AddDays(1))}"; }, null),
            ("event&userId&from&to (30 days)", 200, () => $"/v1/events?event=Event%20{random.Next(50)}&userId=u{random.Next(65536)}&from={Iso(now.AddDays(-30))}&to={Iso(now)}", null),
            ("by messageId", 200, () => $"/v1/events/msg-{random.Next(1, events)}", null),
            ("CSV (1 event name, 1 day)", 50, () => { var d = now.AddDays(-random.Next(1, 89)).Date; return $"/v1/events?event=Event%20{random.Next(50)}&from={Iso(d)}&to={Iso(d.AddDays(1))}"; }, "text/csv"),
            ("stats/events hour (1 day)", 100, () => { var d = now.AddDays(-random.Next(1, 89)).Date; return $"/v1/stats/events?interval=hour&from={Iso(d)}&to={Iso(d.AddDays(1))}"; }, null),
            ("stats/events day (30 days)", 30, () => $"/v1/stats/events?interval=day&from={Iso(now.AddDays(-30))}&to={Iso(now)}", null),
            ("stats/events day&event= (90 days)", 30, () => $"/v1/stats/events?interval=day&event=Event%20{random.Next(50)}&from={Iso(now.AddDays(-90))}&to={Iso(now)}", null),
            ("stats/users (30 days)", 20, () => $"/v1/stats/users?from={Iso(now.AddDays(-30))}&to={Iso(now)}", null),
            ("stats/users (7 days)", 20, () => $"/v1/stats/users?from={Iso(now.AddDays(-7))}&to={Iso(now)}", null),
            ("transactions?status=failed", 200, () => "/v1/transactions?status=failed", null),
            ("quarantine", 200, () => "/v1/quarantine", null),
        };
        // a cursor 20,000 rows deep; cursors are bound to the filters, not to the limit, so it serves the default query too
        for (var i = 0; i < 20; i++)
        {
            using var page = new HttpRequestMessage(HttpMethod.Get, new Uri(pipeline.Api, cursor is null ? "/v1/events?limit=1000" : $"/v1/events?limit=1000&cursor={cursor}"))
                { Headers = { Authorization = readKey } };
            using var answer = await Http.Client.SendAsync(page, ct);
            using var body = System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync(ct));
            cursor = body.RootElement.GetProperty("nextCursor").GetString();
        }

        var failures = new List<string>();
        foreach (var (name, runs, path, accept) in endpoints)
        {
            Task<StepResult> Get(ScenarioContext _, CancellationToken token) =>
                Http.GetAsync(new Uri(pipeline.Api, path()), readKey, accept, notFoundIsOk: name == "by messageId", token);
            await Runner.RunAsync(new Scenario($"read {name} (warm-up)", Get, new ClosedModel(Clients: 1, Iterations: 5)), ct);
            var result = await Runner.RunAsync(new Scenario($"read {name}", Get, new ClosedModel(Clients: 1, Iterations: runs)), ct);
            result.Headline = F($"on {events:N0} events");
            RunReport.Add(result);
            failures.AddRange(Threshold.Check(result, Threshold.FailRate(0)).Select(breach => $"{result.Name}: {breach}; {result.Summary()}"));
        }
        failures.AddRange(await LiveTailAsync(ct));
        Assert.That(failures, Is.Empty);
    }

    /// <summary>The live tail: from an insert's commit to its SSE event, one after another, with the table full.</summary>
    async Task<IReadOnlyList<string>> LiveTailAsync(CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(pipeline.Api, "/v1/events/stream")) { Headers = { Authorization = readKey } };
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await Http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line && !line.StartsWith(": streaming", StringComparison.Ordinal)) { }
        var result = await Runner.RunAsync(new Scenario("read live tail: insert+commit -> SSE event", async (context, token) =>
        {
            long id;
            await using (var conn = await pipeline.Database.OpenConnectionAsync(token))
                id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(InsertTailedEvent, new { Source = source, MessageId = $"tail-{context.Invocation}" }, cancellationToken: token));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
                if (line.StartsWith("id: ", StringComparison.Ordinal) && line.EndsWith($".{id}", StringComparison.Ordinal)) return StepResult.Ok();
            return StepResult.Fail(0, "the stream ended");
        }, new ClosedModel(Clients: 1, Iterations: 100)), ct);
        result.Headline = F($"on {Settings.ReadSideEvents:N0} events");
        RunReport.Add(result);
        return Threshold.Check(result, Threshold.FailRate(0)).Select(breach => $"{result.Name}: {breach}; {result.Summary()}").ToList();
    }

    [Test, Order(2), CancelAfter(600_000)]
    public async Task Plans_of_the_main_queries_are_written_beside_the_report(CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var day = now.AddDays(-10).Date;
        await using var conn = await pipeline.Database.OpenConnectionAsync(ct);
        var snapshot = (await conn.ExecuteScalarAsync<string>(new CommandDefinition("select pg_current_snapshot()::text", cancellationToken: ct)))!;
        var xmin = long.Parse(snapshot.Split(':')[0], CultureInfo.InvariantCulture);
        var plans = new (string Name, string Sql, object Parameters, string Statement)[]
        {
            Plan("events, no filter", EventsApi.SelectEventsPage, Page()),
            Plan("events, event=", EventsApi.SelectEventsPage, Page(evt: "Event 7")),
            Plan("events, userId=", EventsApi.SelectEventsPage, Page(user: "u1234")),
            Plan("events, anonymousId=", EventsApi.SelectEventsPage, Page(anon: "a4321")),
            Plan("events, type=page, 1 day", EventsApi.SelectEventsPage, Page(type: "page", from: day, to: day.AddDays(1))),
            Plan("events, event + userId + 30 days", EventsApi.SelectEventsPage, Page(evt: "Event 7", user: "u1234", from: now.AddDays(-30), to: now)),
            Plan("events, next page (cursor)", EventsApi.SelectEventsPage, Page(after: now.AddDays(-45))),
            Plan("event by messageId", EventsApi.SelectEventByMessageId, new { SourceId = source, MessageId = "msg-4242" }),
            Plan("stats/events hour, 1 day", StatsApi.CountEventsPerBucket, new { Interval = "hour", SourceId = source, Event = (string?)null, From = new DateTimeOffset(day), To = new DateTimeOffset(day.AddDays(1)) }),
            Plan("stats/events day, event=, 90 days", StatsApi.CountEventsPerBucket, new { Interval = "day", SourceId = source, Event = "Event 7", From = new DateTimeOffset(now.AddDays(-90)), To = new DateTimeOffset(now) }),
            Plan("stats/users, 30 days", StatsApi.CountUsersPerDay, new { SourceId = source, From = new DateTimeOffset(now.AddDays(-30)), To = new DateTimeOffset(now) }),
            Plan("transactions, status=failed", TransactionsApi.SelectTransactionsPage, new { Status = "failed", From = (DateTimeOffset?)null, To = (DateTimeOffset?)null, AfterStartedAt = (DateTimeOffset?)null, AfterId = (string?)null, Limit = 101 }),
            Plan("quarantine", QuarantineApi.SelectQuarantinePage, new { SourceId = source, Replayed = (bool?)null, AfterQuarantinedAt = (DateTimeOffset?)null, AfterId = (long?)null, Limit = 101 }),
            Plan("live tail read, 50 transactions behind", LiveTailReader.SelectRowsCommittedBetween, new { AfterXact = xmin - 50, AfterId = 0L, Before = $"{xmin - 50}:{xmin - 50}:", Current = snapshot }),
            Plan("live tail catch-up, 50 transactions behind", LiveTailEndpoint.SelectRowsToCatchUp, new { SourceId = source, Event = (string?)null, AfterXact = xmin - 50, AfterId = 0L, Before = $"{xmin - 50}:{xmin - 50}:", Joined = snapshot, ReplayWindow = TimeSpan.FromMinutes(10), Limit = 1000 }),
        };
        var report = new StringBuilder(F($"# Plans of the read side's main queries on {Settings.ReadSideEvents:N0} events\n"));
        foreach (var (name, sql, parameters, statement) in plans)
        {
            var plan = (await conn.QueryAsync<string>(new CommandDefinition("explain (analyze, buffers, costs off) " + sql, parameters, cancellationToken: ct))).ToList();
            Assert.That(plan, Is.Not.Empty, name);
            report.AppendLine().AppendLine(F($"## {name} ({statement})")).AppendLine().AppendLine("```").AppendJoin('\n', plan).AppendLine().AppendLine("```");
        }
        Directory.CreateDirectory(RunReport.Directory);
        var path = Path.Combine(RunReport.Directory, "read-side-plans.md");
        await File.WriteAllTextAsync(path, report.ToString(), ct);
        await TestContext.Progress.WriteLineAsync($"read side: plans in {path}");
    }

    /// <summary>A query to explain, named in the report by the statement as the code names it (EventsApi.SelectEventsPage…).</summary>
    static (string Name, string Sql, object Parameters, string Statement) Plan(string name, string sql, object parameters,
        [CallerArgumentExpression(nameof(sql))] string statement = "") => (name, sql, parameters, statement);

    object Page(string? type = null, string? evt = null, string? user = null, string? anon = null, DateTime? from = null, DateTime? to = null, DateTime? after = null) => new
    {
        SourceId = source, Type = type, Event = evt, UserId = user, AnonymousId = anon,
        From = from is null ? (DateTimeOffset?)null : new DateTimeOffset(from.Value),
        To = to is null ? (DateTimeOffset?)null : new DateTimeOffset(to.Value),
        AfterTimestamp = after is null ? (DateTimeOffset?)null : new DateTimeOffset(after.Value),
        AfterId = after is null ? (long?)null : Settings.ReadSideEvents / 2L,
        Limit = 101,
    };
}
