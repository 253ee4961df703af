using System.Diagnostics;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// The measurements behind the worker's defaults (not part of deploy/test.sh: category Benchmark). Run with
/// deploy/test.sh --filter "TestCategory=Benchmark" and read the figures in the test output.
/// </summary>
[TestFixture, Category("Benchmark"), CancelAfter(900_000)]
public sealed class When_the_worker_drains_a_backlog
{
    const int EventsPerMessage = 100;

    [Test, Order(1)]
    public async Task PostgreSQL_copy_ceiling(CancellationToken ct)
    {
        const int rows = 100_000;
        var rate = await CopyCeiling.RowsPerSecondAsync(rows, ct);
        await TestContext.Progress.WriteLineAsync($"COPY ceiling: {rows} event rows into a logged table like events = {rate:0} rows/s");
    }

    [TestCase(10, 2, 200)]
    [TestCase(50, 2, 200)]
    [TestCase(100, 1, 200)]
    [TestCase(100, 2, 200)]
    [TestCase(100, 4, 400)]
    [TestCase(200, 2, 400)]
    [Order(2)]
    public async Task Drain_rate(int messageLimit, int concurrency, int prefetch, CancellationToken ct)
    {
        const int messages = 300;
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("bench"), ct);
        await sender.SendAsync("b", messages, EventsPerMessage, ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue, new Dictionary<string, string>
        {
            ["Ingest__Worker__MessageLimit"] = messageLimit.ToString(),
            ["Ingest__Worker__ConcurrencyLimit"] = concurrency.ToString(),
            ["Ingest__Worker__PrefetchCount"] = prefetch.ToString(),
        });
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= messages * EventsPerMessage, TimeSpan.FromSeconds(120), () => "drained");

        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        var seconds = await conn.ExecuteScalarAsync<double>(new CommandDefinition(
            "select extract(epoch from max(stored_at) - min(stored_at)) from events where source_id = @Source", new { sender.Source }, cancellationToken: ct));
        var transactions = (await EventSender.TransactionsOfAsync(worker, ct)).Count;
        await TestContext.Progress.WriteLineAsync(
            $"MessageLimit {messageLimit}, ConcurrencyLimit {concurrency}, PrefetchCount {prefetch}: {messages * EventsPerMessage} events ({messages} messages of {EventsPerMessage}) " +
            $"in {transactions} transactions, {seconds:0.00} s first to last stored = {messages * EventsPerMessage / seconds:0} events/s");
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(messages * EventsPerMessage), "each event stored once");
    }

    [Test, Order(8)]
    public async Task Lag_from_acceptance_to_storage_at_a_steady_load(CancellationToken ct)
    {
        const int messagesPerSecond = 20;
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("lag"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);
        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            // an open-model load: each message is due at its own time, whatever the previous send took
            var due = TimeSpan.FromSeconds((double)sent / messagesPerSecond);
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed, ct);
            await sender.SendAsync($"l{sent}", messages: 1, EventsPerMessage, ct);
            sent++;
        }
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= sent * EventsPerMessage, TimeSpan.FromSeconds(60), () => "all stored");

        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        var lag = await conn.QuerySingleAsync<(double P50, double P99, double Max)>(new CommandDefinition("""
            select percentile_cont(0.5) within group (order by ms), percentile_cont(0.99) within group (order by ms), max(ms)
            from (select extract(epoch from stored_at - received_at) * 1000 as ms from events where source_id = @Source) l
            """, new { sender.Source }, cancellationToken: ct));
        await TestContext.Progress.WriteLineAsync(
            $"Lag at {messagesPerSecond * EventsPerMessage} events/s ({messagesPerSecond} messages/s of {EventsPerMessage}) for 15 s, from the send (receivedAt) to stored_at: " +
            $"p50 {lag.P50:0.0} ms, p99 {lag.P99:0.0} ms, max {lag.Max:0.0} ms");
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(sent * EventsPerMessage), "each event stored once");
    }
}

/// <summary>The write alone, in process, against COPY in the same run: no broker, no deserialization.</summary>
[TestFixture, Category("Benchmark"), CancelAfter(600_000)]
public sealed class When_the_event_writer_writes_batches
{
    [TestCase(100)]
    [TestCase(1000)]
    [TestCase(5000)]
    public async Task Its_rate_against_the_copy_ceiling(int batchSize, CancellationToken ct)
    {
        const int total = 50_000;
        var copying = Writer(copyFromEvents: 1);
        var unnesting = Writer(copyFromEvents: int.MaxValue);

        var oneStatement = await RateAsync((a, e, t) => unnesting.WriteAsync(a, e, t), batchSize, total, ct);
        var copyAndInsert = await RateAsync((a, e, t) => copying.WriteAsync(a, e, t), batchSize, total, ct);
        var ceiling = await CopyCeiling.RowsPerSecondAsync(total, ct);

        await TestContext.Progress.WriteLineAsync(
            $"Batches of {batchSize}, one after another: COPY to temp + INSERT ON CONFLICT {copyAndInsert:0} events/s; " +
            $"unnest in one statement {oneStatement:0} events/s; one COPY of all {total} into a table like events {ceiling:0} rows/s; " +
            $"ratios {copyAndInsert / ceiling:0.00} and {oneStatement / ceiling:0.00}");
    }

    static Ingest.Worker.Persistence.EventWriter Writer(int copyFromEvents) => new(new(TestStack.Database), new(TestStack.Database), new(TestStack.Database),
        Microsoft.Extensions.Options.Options.Create(new Ingest.Worker.Persistence.WorkerOptions { CopyFromEvents = copyFromEvents }));

    static async Task<double> RateAsync(Func<Ingest.Worker.Persistence.TransactionAttempt, IReadOnlyList<Ingest.Contracts.AnalyticsEvent>, CancellationToken, Task> write,
        int batchSize, int total, CancellationToken ct)
    {
        var source = $"wb-{Guid.NewGuid():N}"[..16];
        var properties = System.Text.Json.JsonDocument.Parse("""{"plan":"pro","amount":12.5}""").RootElement;
        var events = Enumerable.Range(0, total).Select(i => new Ingest.Contracts.AnalyticsEvent
        {
            SourceId = source, MessageId = $"w-{i}", Type = "track", Event = "Test Event", UserId = "user-1",
            Timestamp = DateTimeOffset.UtcNow, ReceivedAt = DateTimeOffset.UtcNow, Properties = properties,
            Context = System.Text.Json.JsonDocument.Parse("""{"library":{"name":"analytics.js","version":"2.11.1"}}""").RootElement,
        }).ToArray();
        var clock = Stopwatch.StartNew();
        for (var offset = 0; offset < total; offset += batchSize)
        {
            var attempt = new Ingest.Worker.Persistence.TransactionAttempt(Guid.CreateVersion7(), "benchmark", 1, 1, DateTime.UtcNow, null);
            await write(attempt, new ArraySegment<Ingest.Contracts.AnalyticsEvent>(events, offset, batchSize), ct);
        }
        var rate = total / clock.Elapsed.TotalSeconds;
        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        Assert.That(await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from events where source_id = @source", new { source }, cancellationToken: ct)),
            Is.EqualTo(total), "each event stored once");
        return rate;
    }
}

/// <summary>Binary COPY of event rows into a logged table made like events (its indexes included), dropped afterwards.</summary>
static class CopyCeiling
{
    public static async Task<double> RowsPerSecondAsync(int total, CancellationToken ct)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        var table = $"copy_ceiling_{Guid.NewGuid():N}"[..24];
        await conn.ExecuteAsync(new CommandDefinition($"create table {table} (like events including all)", cancellationToken: ct));
        var clock = Stopwatch.StartNew();
        await using (var copy = await conn.BeginBinaryImportAsync(
            $"copy {table} (source_id, message_id, type, event, user_id, \"timestamp\", received_at, properties, context) from stdin (format binary)", ct))
        {
            var now = DateTime.UtcNow;
            for (var i = 0; i < total; i++)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync("bench", NpgsqlDbType.Text, ct);
                await copy.WriteAsync($"c-{i}", NpgsqlDbType.Text, ct);
                await copy.WriteAsync("track", NpgsqlDbType.Text, ct);
                await copy.WriteAsync("Test Event", NpgsqlDbType.Text, ct);
                await copy.WriteAsync("user-1", NpgsqlDbType.Text, ct);
                await copy.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync("""{"plan":"pro","amount":12.5}""", NpgsqlDbType.Jsonb, ct);
                await copy.WriteAsync("""{"library":{"name":"analytics.js","version":"2.11.1"}}""", NpgsqlDbType.Jsonb, ct);
            }
            await copy.CompleteAsync(ct);
        }
        var rate = total / clock.Elapsed.TotalSeconds;
        Assert.That(await conn.ExecuteScalarAsync<long>(new CommandDefinition($"select count(*) from {table}", cancellationToken: ct)), Is.EqualTo(total), "every row copied");
        await conn.ExecuteAsync(new CommandDefinition($"drop table {table}", cancellationToken: ct));
        return rate;
    }
}
