using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Dapper;
using Ingest.Api.Keys;
using Ingest.Api.Privacy;
using Ingest.Contracts;
using Ingest.Database.Privacy;
using Ingest.Worker.Persistence;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using StressTests.Cost;
using StressTests.Pipeline;
using StressTests.Reports;
using StressTests.Runner;

namespace StressTests.Scenarios;

/// <summary>
/// What privacy (issue 23) costs, in the benchmark (deploy/bench.sh; alone: <c>deploy/bench.sh privacy</c>), each
/// figure against its baseline in the same run: the API's suppression check in process (µs of CPU per event, against
/// a source with no suppression and the bare Kestrel ceiling's CPU per request), PostgreSQL's CPU per event stored
/// through the worker's writer when the source has erasure or suppression filters (against a source with none), and a
/// deletion of 1,000 subjects from 1,000,000 events (<see cref="Settings.PrivacyEvents"/>) carried out by the
/// pipeline's worker while single events are ingested (their latency during it against before it).
/// </summary>
[TestFixture, Category("Benchmark"), NonParallelizable]
public sealed class PrivacyBenchmarks : PipelineBenchmark
{
    const int SuppressedSubjects = 5000;
    const int FilteredSubjects = 1000;
    const int WrittenEvents = 50_000;
    const int BatchSize = 100;
    const int DeletedSubjects = 1000;
    const int EventsPerDeletedSubject = 10;

    /// <summary>A source, and a finished request (so the privacy runner leaves it alone) behind its filters.</summary>
    const string InsertFilteredSource = """
        insert into sources (id, name) values (@Source, @Source);
        insert into privacy_requests (id, source_id, key_prefix, type, status, subjects, started_at, finished_at)
        select @Request, @Source, 'benchmark', @Type, 'done', @Subjects, now(), now() where @Subjects > 0;
        insert into privacy_filters (source_id, subject_hash, suppressed_by, erased_before, erased_by)
        select @Source, privacy_subject_hash('userId', 'subject-' || i),
               case when @Type = 'suppress' then @Request end,
               case when @Type = 'delete' then now() end,
               case when @Type = 'delete' then @Request end
        from generate_series(1, @Subjects) as i
        """;

    const string CountSubjectEvents = "select count(*) from events where source_id = @Source and user_id = any(@Subjects)";

    static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// <see cref="SuppressionList.Suppresses"/> called in this process, one thousand events a step, for events of a source
    /// with no suppression, of a source with 5,000 suppressed subjects (events of others, carrying a userId and an
    /// anonymousId as analytics.js sends them: two hashes each), and of suppressed subjects (one hash, then counted):
    /// µs of this process's CPU time per call, and as a fraction of the bare Kestrel ceiling's CPU per request.
    /// </summary>
    [Test, Order(1), CancelAfter(300_000)]
    public async Task Suppression_check_costs_microseconds_of_cpu_per_event(CancellationToken ct)
    {
        var ceiling = (await MeasuredCeilings.KestrelAsync(ct)).Cost?.ServerMicrosPerEvent;
        var key = RandomNumberGenerator.GetBytes(32);
        // Source ids alike in length and form, as real ones are: a frozen dictionary turns away a key of another length at once.
        const string plain = "source-0001", suppressing = "source-0002";
        var suppressed = Enumerable.Range(0, SuppressedSubjects).Select(i => (suppressing, SubjectHash.Of(key, SubjectHash.UserId, $"s-{i}")));
        using var unused = NpgsqlDataSource.Create("Host=127.0.0.1"); // never opened: the list is loaded below
        var list = new SuppressionList(unused, Options.Create(new KeyOptions()), NullLogger<SuppressionList>.Instance);
        list.Load(key, suppressed);

        AnalyticsEvent Event(string source, int i, string userId, string? anonymousId) =>
            BrokerBacklog.Event(source, $"m-{i}") with { UserId = userId, AnonymousId = anonymousId };
        var cases = new (string Name, AnalyticsEvent[] Events, bool Suppressed)[]
        {
            ("no suppression in the source", Enumerable.Range(0, 1000).Select(i => Event(plain, i, $"u-{i}", $"a-{i}")).ToArray(), false),
            ($"{SuppressedSubjects:N0} suppressed, event not", Enumerable.Range(0, 1000).Select(i => Event(suppressing, i, $"u-{i}", $"a-{i}")).ToArray(), false),
            ("event suppressed", Enumerable.Range(0, 1000).Select(i => Event(suppressing, i, $"s-{i * 5}", $"a-{i}")).ToArray(), true),
        };
        var cpu = new ProcessCpu([ProcessCpu.Self]);
        double? baseline = null;
        foreach (var (name, events, expected) in cases)
        {
            var scenario = new Scenario($"suppression check: {name}", (_, _) =>
            {
                var count = 0;
                foreach (var e in events)
                    if (list.Suppresses(e)) count++;
                return Task.FromResult(count == (expected ? events.Length : 0)
                    ? StepResult.Ok(items: events.Length)
                    : StepResult.Fail(0, $"{count} of {events.Length} suppressed"));
            }, new ClosedModel(Clients: 1, Duration: Settings.Duration)) { WarmUp = Settings.WarmUp };
            var result = await new ScenarioRunner(TestContext.Progress) { Cpu = cpu }.RunAsync(scenario, ct);
            if (result.Cpu is { } window)
                result.Cost = new ScenarioCost(result.Items, "calls of SuppressionList.Suppresses in the window (this process's CPU)",
                    window.AllSeconds(), [ProcessCpu.LoadGenerator], CeilingMicrosPerRequest: ceiling);
            var micros = result.Cost?.MicrosPerEvent(ProcessCpu.LoadGenerator);
            baseline ??= micros;
            result.Headline = F($"{micros:0.000} µs CPU per event")
                + (ceiling is > 0 && micros is { } m ? F($", {m / ceiling.Value * 100:0.0}% of a bare Kestrel request ({ceiling:0.0} µs)") : "")
                + (baseline is > 0 && micros is { } own && own != baseline ? F($", {own / baseline.Value:0}× no suppression") : "");
            RunReport.Add(result);
            Threshold.Assert(result, Threshold.FailRate(0));
        }
    }

    /// <summary>
    /// PostgreSQL's CPU per event (the whole cluster, from /proc) writing 50,000 events in batches of 100 through the
    /// worker's <see cref="EventWriter"/> (its default settings: unnest at this size), to a source with no privacy_filters
    /// rows, to one with 1,000 erased subjects (events of others: stored, each probing the filters with two hashes), and
    /// as events of 1,000 suppressed subjects (skipped by the worker's insert, migration 0108). Twice, a round after another, each
    /// filtered source against the unfiltered one of its round.
    /// </summary>
    [Test, Order(2), CancelAfter(900_000)]
    public async Task Deletion_filter_costs_postgres_cpu_per_event_against_a_source_without_filters(CancellationToken ct)
    {
        var under = await Pipeline();
        var ceiling = MeasuredCeilings.KestrelIfMeasured()?.Cost?.ServerMicrosPerEvent;
        var writer = new EventWriter(new UnnestInsert(under.Database), new CopyInsert(under.Database), new OneByOneInsert(under.Database),
            Options.Create(new WorkerOptions()));
        var cases = new (string Name, string Type, int Subjects)[]
        {
            ("no filters", "", 0),
            ($"{FilteredSubjects:N0} erased, events of others", PrivacyRequestType.Delete, FilteredSubjects),
            ($"{FilteredSubjects:N0} suppressed, events theirs", PrivacyRequestType.Suppress, FilteredSubjects),
        };
        // A, B, C then C, B, A: a drift of the machine over the rounds weighs on every case alike.
        for (var round = 1; round <= 2; round++)
        {
            var results = new Dictionary<string, ScenarioResult>();
            foreach (var (name, type, subjects) in round == 1 ? cases : Enumerable.Reverse(cases))
            {
                var source = $"privacy-filter-{Guid.NewGuid():N}"[..24];
                await using (var conn = await under.Database.OpenConnectionAsync(ct))
                    await conn.ExecuteAsync(new CommandDefinition(InsertFilteredSource,
                        new { Source = source, Request = Guid.CreateVersion7(), Type = type, Subjects = subjects }, cancellationToken: ct));
                var skipped = type == PrivacyRequestType.Suppress;
                var events = Enumerable.Range(0, WrittenEvents)
                    .Select(i => BrokerBacklog.Event(source, $"f-{i}") with { UserId = skipped ? $"subject-{1 + i % subjects}" : "user-1" })
                    .ToArray();
                var scenario = new Scenario($"deletion filter: {name} (round {round})", async (context, token) =>
                {
                    var batch = new ArraySegment<AnalyticsEvent>(events, (int)context.Invocation * BatchSize, BatchSize);
                    var attempt = new TransactionAttempt(Guid.CreateVersion7(), "benchmark", 1, 1, DateTime.UtcNow, null);
                    var written = await writer.WriteAsync(attempt, batch, token);
                    var expected = skipped ? 0 : BatchSize;
                    return written.Inserted == expected ? StepResult.Ok(items: BatchSize) : StepResult.Fail(0, $"{written.Inserted} of {BatchSize} inserted, {expected} expected");
                }, new ClosedModel(Clients: 1, Iterations: WrittenEvents / BatchSize)) { WarmUp = TimeSpan.FromSeconds(1) };

                var result = await new ScenarioRunner(TestContext.Progress) { Cpu = under.Cpu }.RunAsync(scenario, ct);
                if (result.Cpu is { } window)
                    result.Cost = new ScenarioCost(result.Items, "events written in batches of 100 in the window (stored or skipped)",
                        window.AllSeconds(), [ProcessCpu.Postgres], CeilingMicrosPerRequest: ceiling);
                results[name] = result;
                Threshold.Assert(result, Threshold.FailRate(0));
                Assert.That(await under.CountStoredAsync(source, ct), Is.EqualTo(skipped ? 0 : WrittenEvents), "stored unless suppressed");
            }
            var baseline = results[cases[0].Name].Cost?.MicrosPerEvent(ProcessCpu.Postgres);
            foreach (var (name, _, subjects) in cases)
            {
                var result = results[name];
                var micros = result.Cost?.MicrosPerEvent(ProcessCpu.Postgres);
                result.Headline = F($"PostgreSQL {micros:0.0} µs CPU per event")
                    + (subjects > 0 && baseline is > 0 && micros is { } m ? F($", {m / baseline.Value:0.00}× no filters ({baseline:0.0} µs, same round)") : "");
                RunReport.Add(result);
            }
        }
    }

    /// <summary>
    /// One source filled with <see cref="Settings.PrivacyEvents"/> events over 30 days (generate_series), 10 of each of
    /// 1,000 subjects among them; a delete request of those subjects recorded as the API records it, carried out by the
    /// pipeline's worker (PrivacyRunner) while single events of the same source are injected at <see cref="Settings.OpenRate"/>/s:
    /// from request to done, the receipt (exactly the subjects' events), no row of theirs left, and the ingestion's
    /// latency during the deletion (open-model runs of a second each, one after another until it is done) against before it.
    /// </summary>
    [Test, Order(3), CancelAfter(1_800_000)]
    public async Task Deleting_1000_subjects_from_a_million_events_keeps_ingestion_answering(CancellationToken ct)
    {
        var under = await Pipeline();
        var source = await under.CreateSourceAsync("privacy-delete", ct);
        var total = Settings.PrivacyEvents;
        var subjectEvents = DeletedSubjects * EventsPerDeletedSubject;
        var subjects = Enumerable.Range(1, DeletedSubjects).Select(i => $"erase-{i}").ToArray();
        var clock = Stopwatch.StartNew();
        await GeneratedEvents.FillAsync(under.Database, source.Id, total, (total / subjectEvents, DeletedSubjects), ct);
        await using (var conn = await under.Database.OpenConnectionAsync(ct))
            Assert.That(await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountSubjectEvents, new { Source = source.Id, Subjects = subjects }, cancellationToken: ct)),
                Is.EqualTo(subjectEvents), "the subjects' events generated");
        var filled = clock.Elapsed;
        await TestContext.Progress.WriteLineAsync(F($"privacy: generated {total:N0} events of {source.Id} ({subjectEvents:N0} of {DeletedSubjects:N0} subjects) in {filled.TotalSeconds:0} s"));

        var url = new Uri(under.Api, "/v1/track");
        var auth = Http.Basic(source.WriteKey);
        Func<ScenarioContext, CancellationToken, Task<StepResult>> Track(string prefix) =>
            (context, token) => Http.PostAsync(url, EventBodies.Track($"{prefix}-{context.Invocation}"), auth, HttpStatusCode.OK, 1, token);
        var before = await new ScenarioRunner(TestContext.Progress) { Cpu = under.Cpu }.RunAsync(new Scenario("privacy delete: ingestion before",
            Track("before"), new OpenModel(Settings.OpenRate, Settings.Duration, Ramp: TimeSpan.FromSeconds(2))) { WarmUp = Settings.WarmUp }, ct);

        var done = false;
        var parts = new List<ScenarioResult>();
        var start = under.Cpu.Sample();
        var deleting = Stopwatch.StartNew();
        var load = Task.Run(async () =>
        {
            for (var part = 0; !Volatile.Read(ref done); part++)
                parts.Add(await new ScenarioRunner(TextWriter.Null).RunAsync(
                    new Scenario("privacy delete: ingestion during", Track($"during{part}"), new OpenModel(Settings.OpenRate, TimeSpan.FromSeconds(1))), ct));
        }, ct);
        var request = await PrivacyRecords.CreateAsync(under.Database, source.Id, "benchmark", PrivacyRequestType.Delete,
            subjects.Select(s => new PrivacySubject(SubjectHash.UserId, s)).ToList(), ct);
        PrivacyRequestRecord? receipt;
        while ((receipt = await PrivacyRecords.GetAsync(under.Database, source.Id, request, ct)) is not { Status: "done" or "failed" } && deleting.Elapsed < TimeSpan.FromMinutes(20))
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        var waited = deleting.Elapsed;
        var end = under.Cpu.Sample();
        Volatile.Write(ref done, true);
        await load;
        var during = Concat("privacy delete: ingestion during", parts);

        long left;
        await using (var conn = await under.Database.OpenConnectionAsync(ct))
            left = await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountSubjectEvents, new { Source = source.Id, Subjects = subjects }, cancellationToken: ct));
        var seconds = receipt?.FinishedAt is { } finished ? (finished - receipt.RequestedAt).TotalSeconds : double.NaN;
        var deletion = new CpuWindow(start, end);
        var beforeSeconds = before.Cpu is { } w ? (w.End.At - w.Start.At).TotalSeconds : double.NaN;
        string Busy(string process) => F($"{process} {deletion.Seconds(process) / waited.TotalSeconds * 100:0}% of a core during it, {before.Cpu?.Seconds(process) / beforeSeconds * 100:0}% before");
        during.Headline = F($"deleted {receipt?.RemovedEvents:N0} events of {DeletedSubjects:N0} subjects from {total:N0} in {seconds:0.00} s; p99 {during.P(99):0.0} ms against {before.P(99):0.0} ms before");
        during.Figures.Add(("deletion", F($"request {request} {receipt?.Status}: requested to finished {seconds:0.00} s (database clock), {waited.TotalSeconds:0.00} s until seen done; removed {receipt?.RemovedEvents} events, {receipt?.RemovedQuarantined} quarantined, {receipt?.RemovedDeadLetters} dead-lettered; {left} of the subjects' rows left")));
        during.Figures.Add(("table", F($"{total:N0} events of the source generated over 30 days ({subjectEvents:N0} of the subjects'), {GeneratedEvents.ThenPrepared}, in {filled.TotalSeconds:0} s")));
        during.Figures.Add(("ingestion latency", F($"during p50 {during.P(50):0.00} ms, p99 {during.P(99):0.00} ms ({during.Ok} calls in {parts.Count} runs of 1 s); before p50 {before.P(50):0.00} ms, p99 {before.P(99):0.00} ms ({before.Ok} calls)")));
        during.Figures.Add(("CPU", string.Join("; ", new[] { ProcessCpu.Postgres, ProcessCpu.Worker, ProcessCpu.Api }.Select(Busy))));
        RunReport.Add(before);
        RunReport.Add(during);

        Assert.That(receipt?.Status, Is.EqualTo("done"), $"the request within 20 minutes: {receipt?.Reason}");
        Assert.That(receipt!.RemovedEvents, Is.EqualTo(subjectEvents), "the receipt counts exactly the subjects' events");
        Assert.That(left, Is.Zero, "no row of the subjects left");
        Threshold.Assert(before, Threshold.FailRate(0));
        Threshold.Assert(during, Threshold.FailRate(0));
    }

    /// <summary>Runs one after another, as one: their calls, codes, errors and latencies summed, their seconds in a row.</summary>
    static ScenarioResult Concat(string name, List<ScenarioResult> parts)
    {
        var latency = new LatencyHistogram();
        foreach (var part in parts) latency.Add(part.Latency);
        return new ScenarioResult
        {
            Name = name,
            Load = F($"{parts[0].Load}, {parts.Count} runs in a row"),
            WarmUp = TimeSpan.Zero,
            MeasuredTime = TimeSpan.FromTicks(parts.Sum(p => p.MeasuredTime.Ticks)),
            Ok = parts.Sum(p => p.Ok),
            Fail = parts.Sum(p => p.Fail),
            Bytes = parts.Sum(p => p.Bytes),
            Items = parts.Sum(p => p.Items),
            StatusCodes = parts.SelectMany(p => p.StatusCodes).GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.Sum(c => c.Value)),
            Errors = parts.SelectMany(p => p.Errors).GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Sum(e => e.Value)),
            Latency = latency,
            Timeline = parts.SelectMany(p => p.Timeline).Select((s, i) => s with { Second = i }).ToList(),
        };
    }
}
