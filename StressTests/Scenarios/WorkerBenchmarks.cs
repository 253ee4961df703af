using System.Globalization;
using Dapper;
using Ingest.Contracts;
using Ingest.Worker.Persistence;
using Microsoft.Extensions.Options;
using StressTests.Pipeline;
using StressTests.Reports;
using StressTests.Runner;

namespace StressTests.Scenarios;

/// <summary>
/// The measurements behind the worker's defaults (<see cref="WorkerOptions"/>), in the benchmark (deploy/bench.sh;
/// alone: <c>deploy/bench.sh worker</c>), each against the PostgreSQL COPY ceiling of the same run: a backlog drained by
/// a worker process at several batch settings, and the batch write alone, in process, by the unnest statement and by
/// COPY at several batch sizes. In the database of the pipeline bench.sh started, else of one started here.
/// </summary>
[TestFixture, Category("Benchmark"), NonParallelizable]
public sealed class WorkerBenchmarks : PipelineBenchmark
{
    const int EventsPerMessage = 100;
    const int BacklogMessages = 300;
    const int WrittenEvents = 50_000;

    const string StoredSpan = """
        select count(*) as Count, extract(epoch from max(stored_at) - min(stored_at))::float8 as Seconds
        from events where source_id = @Source
        """;

    const string CountTransactions = "select count(*) from ingest_transactions where worker_host = @WorkerHost and status = 'committed'";

    static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// 300 broker messages of 100 events queued, then a worker started with the settings: from its start until every
    /// event is stored (the table's calls/s is one drain), and the rate from the first to the last stored_at.
    /// </summary>
    [TestCase(10, 2, 200)]
    [TestCase(50, 2, 200)]
    [TestCase(100, 1, 200)]
    [TestCase(100, 2, 200)]
    [TestCase(100, 4, 400)]
    [TestCase(200, 2, 400)]
    [CancelAfter(300_000)]
    public async Task Worker_drains_a_backlog_storing_each_event_once(int messageLimit, int concurrency, int prefetch, CancellationToken ct)
    {
        var under = await Pipeline();
        var name = $"worker-drain-{messageLimit}x{concurrency}";
        var source = $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];
        var queue = $"stress-{source}";
        const int total = BacklogMessages * EventsPerMessage;
        await BrokerBacklog.SendAsync(queue, source, BacklogMessages, EventsPerMessage, ct);
        var settings = new Dictionary<string, string>
        {
            ["Ingest__Worker__MessageLimit"] = messageLimit.ToString(CultureInfo.InvariantCulture),
            ["Ingest__Worker__ConcurrencyLimit"] = concurrency.ToString(CultureInfo.InvariantCulture),
            ["Ingest__Worker__PrefetchCount"] = prefetch.ToString(CultureInfo.InvariantCulture),
        };
        ExtraWorker? worker = null;
        var scenario = new Scenario(name, async (_, token) =>
        {
            worker = await under.StartWorkerAsync(queue, settings, token);
            var stored = await under.WaitForStoredAsync(source, total, TimeSpan.FromSeconds(120), token);
            return stored == total ? StepResult.Ok(items: total) : StepResult.Fail(0, $"{stored} of {total} stored within 120 s");
        }, new ClosedModel(Clients: 1, Iterations: 1));
        try
        {
            var result = await new ScenarioRunner(TestContext.Progress).RunAsync(scenario, ct);
            await using var conn = await under.Database.OpenConnectionAsync(ct);
            var span = await conn.QuerySingleAsync<(long Count, double Seconds)>(new CommandDefinition(StoredSpan, new { Source = source }, cancellationToken: ct));
            var transactions = worker is null ? 0 : await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountTransactions, new { worker.WorkerHost }, cancellationToken: ct));
            var rate = span.Seconds > 0 ? span.Count / span.Seconds : 0;
            result.Figures.Add(("settings", F($"MessageLimit {messageLimit}, ConcurrencyLimit {concurrency}, PrefetchCount {prefetch}")));
            result.Figures.Add(("drained", F($"{span.Count} events ({BacklogMessages} messages of {EventsPerMessage}) in {transactions} transactions, {span.Seconds:0.00} s first to last stored: {rate:0} events/s")));
            result.Headline = F($"{rate:0} events/s first to last stored, {transactions} transactions");
            result.CompareWith(MeasuredCeilings.Copy, "events/s", rate, (await MeasuredCeilings.CopyAsync(ct)).ItemsRate);
            RunReport.Add(result);

            Threshold.Assert(result, Threshold.FailRate(0));
            Assert.That(span.Count, Is.EqualTo(total), "each event stored once");
        }
        finally
        {
            if (worker is not null) await worker.DisposeAsync();
        }
    }

    /// <summary>
    /// The worker's write alone (<see cref="EventWriter"/>: no broker, no deserialization), batches one after another
    /// from one caller, once through the unnest statement and once through COPY: events/s, and each batch's latency.
    /// </summary>
    [TestCase(100)]
    [TestCase(1000)]
    [TestCase(5000)]
    [CancelAfter(600_000)]
    public async Task Event_writer_stores_batches_by_unnest_and_by_copy(int batchSize, CancellationToken ct)
    {
        var under = await Pipeline();
        var copy = await MeasuredCeilings.CopyAsync(ct);
        foreach (var (path, copyFromEvents) in new[] { ("unnest", int.MaxValue), ("copy", 1) })
        {
            var writer = new EventWriter(new UnnestInsert(under.Database), new CopyInsert(under.Database), new OneByOneInsert(under.Database),
                Options.Create(new WorkerOptions { CopyFromEvents = copyFromEvents }));
            var name = $"event-writer-{path}-{batchSize}";
            var source = $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];
            var events = Enumerable.Range(0, WrittenEvents).Select(i => BrokerBacklog.Event(source, $"w-{i}")).ToArray();
            var scenario = new Scenario(name, async (context, token) =>
            {
                var batch = new ArraySegment<AnalyticsEvent>(events, (int)context.Invocation * batchSize, batchSize);
                var attempt = new TransactionAttempt(Guid.CreateVersion7(), "benchmark", 1, 1, DateTime.UtcNow, null);
                var written = await writer.WriteAsync(attempt, batch, token);
                return written.Inserted == batchSize ? StepResult.Ok(items: batchSize) : StepResult.Fail(0, $"{written.Inserted} of {batchSize} inserted");
            }, new ClosedModel(Clients: 1, Iterations: WrittenEvents / batchSize));

            var result = await new ScenarioRunner(TestContext.Progress).RunAsync(scenario, ct);
            result.Headline = F($"batches of {batchSize} by {(path == "copy" ? "COPY to a temp table + INSERT ON CONFLICT" : "unnest in one statement")}");
            result.CompareWith(MeasuredCeilings.Copy, "events/s", result.ItemsRate, copy.ItemsRate);
            RunReport.Add(result);

            Threshold.Assert(result, Threshold.FailRate(0));
            Assert.That(await under.CountStoredAsync(source, ct), Is.EqualTo(WrittenEvents / batchSize * batchSize), "each event stored once");
        }
    }
}
