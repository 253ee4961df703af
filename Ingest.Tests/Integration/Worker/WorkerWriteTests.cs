using System.Net;
using System.Text.Json;
using Dapper;

namespace Ingest.Tests.Integration.Worker;

[TestFixture, CancelAfter(120_000)]
public sealed class When_ten_thousand_events_arrive
{
    [Test]
    public async Task Each_is_stored_once_and_the_transaction_log_counts_them(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("10k"), ct);
        var ids = await sender.SendAsync("e", messages: 100, eventsEach: 100, ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= 10_000, TimeSpan.FromSeconds(60),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of 10000 stored");

        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty, "every event stored");
        Assert.That(repeated, Is.Empty, "no event stored twice");
        var rows = await EventSender.TransactionsOfAsync(worker, ct);
        Assert.That(rows.Where(r => r.Status == "committed").Sum(r => r.Inserted), Is.EqualTo(10_000), "inserted counts in ingest_transactions");
        var committed = worker.Transactions("committed").ToList();
        Assert.That(committed.Sum(p => p.GetProperty("Inserted").GetInt32()), Is.EqualTo(10_000), "inserted counts in the structured log");
        Assert.That(committed.Select(p => p.GetProperty("TransactionId").GetString()), Is.EquivalentTo(rows.Where(r => r.Status == "committed").Select(r => r.Id.ToString())),
            "the log and the table record the same transactions");
        Assert.That(committed, Has.All.Matches<JsonElement>(p =>
            p.TryGetProperty("EventCount", out _) && p.TryGetProperty("Duplicates", out _) && p.TryGetProperty("Quarantined", out _)
            && p.TryGetProperty("ElapsedMs", out _) && p.TryGetProperty("Attempt", out _)));
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero);

        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        var seconds = await conn.ExecuteScalarAsync<double>(new CommandDefinition(
            "select extract(epoch from max(stored_at) - min(stored_at)) from events where source_id = @Source", new { sender.Source }, cancellationToken: ct));
        await TestContext.Progress.WriteLineAsync($"10,000 events (100 messages of 100) stored in {seconds:0.000} s from first to last: {10_000 / Math.Max(seconds, 0.001):0} events/s; {rows.Count} transactions");
    }
}

[TestFixture, CancelAfter(120_000)]
public sealed class When_the_same_events_arrive_twice
{
    [Test]
    public async Task They_are_stored_once_and_the_second_copies_are_counted_as_duplicates(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("twice"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);
        var ids = await sender.SendAsync("d", messages: 20, eventsEach: 50, ct);
        await Eventually.HoldsAsync(async t => (await EventSender.TransactionsOfAsync(worker, t)).Sum(r => r.Inserted) >= 1000, TimeSpan.FromSeconds(30), () => "first copies");

        await sender.SendAsync("d", messages: 20, eventsEach: 50, ct);
        await Eventually.HoldsAsync(async t => (await EventSender.TransactionsOfAsync(worker, t)).Sum(r => r.Inserted + r.Duplicates) >= 2000, TimeSpan.FromSeconds(30),
            () => "second copies");

        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty);
        Assert.That(repeated, Is.Empty);
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(1000));
        var rows = (await EventSender.TransactionsOfAsync(worker, ct)).Where(r => r.Status == "committed").ToList();
        Assert.That(rows.Sum(r => r.Inserted), Is.EqualTo(1000));
        Assert.That(rows.Sum(r => r.Duplicates), Is.EqualTo(1000));
        Assert.That(worker.Transactions("committed").Sum(p => p.GetProperty("Duplicates").GetInt32()), Is.EqualTo(1000), "duplicates in the structured log");
    }
}

[TestFixture, CancelAfter(150_000)]
public sealed class When_the_database_is_down
{
    [Test]
    public async Task Events_are_stored_after_it_returns(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("outage"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue, new Dictionary<string, string> { ["Ingest__Worker__RetryMaxDelay"] = "00:00:02" });
        var ids = new List<string>(await sender.SendAsync("before", messages: 10, eventsEach: 50, ct));
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) == 500, TimeSpan.FromSeconds(30), () => "events before the outage");

        try
        {
            await TestStack.StackAsync("stop-postgres");
            var outage = DateTime.UtcNow;
            for (var i = 0; DateTime.UtcNow - outage < TimeSpan.FromSeconds(30); i++)
            {
                ids.AddRange(await sender.SendAsync($"during{i}", messages: 2, eventsEach: 25, ct));
                await Task.Delay(500, ct); // the pace of arriving traffic, not a wait for a condition
            }
            Assert.That(worker.HasExited, Is.False, "the worker keeps running while the database is down");
            Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "nothing moved to the error queue during the outage");
            Assert.That(worker.Transactions("retrying").Count(), Is.GreaterThan(0), "the log shows retries during the outage");
            Assert.That(worker.Transactions("failed").Count(), Is.GreaterThan(0), "the log shows failed attempts during the outage");
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
        }

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= ids.Count, TimeSpan.FromSeconds(60),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of {ids.Count} stored after the database returned");

        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty);
        Assert.That(repeated, Is.Empty);
        Assert.That(worker.HasExited, Is.False, "resumed without a restart");
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "nothing in the error queue");
        var rows = await EventSender.TransactionsOfAsync(worker, ct);
        Assert.That(rows.Where(r => r.Status == "committed").Sum(r => r.Inserted), Is.EqualTo(ids.Count));
        var retried = rows.Where(r => r.Status == "committed" && r.Attempt > 1).Select(r => r.Id).ToHashSet();
        Assert.That(retried, Is.Not.Empty, "some transactions committed on a later attempt");
        Assert.That(rows.Where(r => r.Status == "failed" && retried.Contains(r.Id)).Select(r => r.Error), Is.Not.Empty.And.All.Not.Null,
            "their failed attempts are in the transaction log with the error");
        var log = worker.Log.Where(p => p.TryGetProperty("Status", out _)).ToList();
        var firstRetry = log.FindIndex(p => p.GetProperty("Status").GetString() == "retrying");
        Assert.That(log.Skip(firstRetry).Any(p => p.GetProperty("Status").GetString() == "committed"), Is.True, "committed after retrying, in the log");
    }
}

[TestFixture, CancelAfter(120_000)]
public sealed class When_the_worker_is_killed_mid_load
{
    [Test]
    public async Task Every_event_is_stored_once_after_it_restarts(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("kill"), ct);
        var ids = await sender.SendAsync("k", messages: 100, eventsEach: 100, ct);
        // Paced at 2,000 events/s, so that the kill lands in the middle of the load.
        var worker = await WorkerProcess.StartAsync(sender.Queue, new Dictionary<string, string>
        {
            ["Ingest__Worker__MaxEventsPerSecond"] = "2000",
            ["Ingest__Worker__MessageLimit"] = "10",
            ["Ingest__Worker__PrefetchCount"] = "40",
        });
        await using (worker)
        {
            await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= 2000, TimeSpan.FromSeconds(30), () => "part of the load");
            await worker.KillAsync();
        }
        var storedAtKill = await sender.StoredAsync(ct);
        Assert.That(storedAtKill, Is.LessThan(10_000), "killed in the middle of the load");

        await using var restarted = await WorkerProcess.StartAsync(sender.Queue);
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= 10_000, TimeSpan.FromSeconds(60),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of 10000 stored after the restart");
        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty);
        Assert.That(repeated, Is.Empty);
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero);
        await TestContext.Progress.WriteLineAsync($"killed with {storedAtKill} of 10,000 stored; the restarted worker stored the rest");
    }
}

[TestFixture, CancelAfter(120_000)]
public sealed class When_a_batch_holds_events_the_database_refuses
{
    // 20 events go through the unnest statement, 1,000 through COPY (WorkerOptions.CopyFromEvents): both refuse the same way.
    [TestCase(20)]
    [TestCase(1000)]
    public async Task The_good_events_are_stored_and_exactly_the_bad_ones_quarantined_with_a_reason(int size, CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("poison"), ct);
        var overflow = JsonDocument.Parse("""{"amount":1e400000}""").RootElement;         // numeric overflow inside jsonb: 22003
        var nul = JsonDocument.Parse("""{"note":"a\u0000b"}""").RootElement;              // NUL escape in jsonb: 22P05
        var bad = new Dictionary<int, JsonElement> { [3] = overflow, [size / 2 + 1] = nul, [size - 3] = overflow };
        var events = Enumerable.Range(0, size).Select(i => sender.Event($"p-{i}", bad.TryGetValue(i, out var p) ? p : null)).ToList();
        await sender.SendAsync(events, ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);

        await Eventually.HoldsAsync(async t => (await EventSender.TransactionsOfAsync(worker, t)).Any(r => r.Status == "committed"), TimeSpan.FromSeconds(30),
            () => "the batch committed");

        var good = events.Where((_, i) => !bad.ContainsKey(i)).Select(e => e.MessageId).ToList();
        var (missing, repeated) = await sender.CheckStoredOnceAsync(good, ct);
        Assert.That(missing, Is.Empty, "the good events are stored");
        Assert.That(repeated, Is.Empty);
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(size - 3), "and only they");

        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        var quarantined = (await conn.QueryAsync<(string MessageId, string Raw, string Reason, Guid TransactionId)>(new CommandDefinition(
            "select message_id, raw, reason, transaction_id from quarantined_events where source_id = @Source order by message_id", new { sender.Source }, cancellationToken: ct))).ToList();
        Assert.That(quarantined.Select(q => q.MessageId), Is.EquivalentTo(bad.Keys.Select(i => $"p-{i}")), "exactly the bad ones");
        Assert.That(quarantined.Single(q => q.MessageId == "p-3").Reason, Does.Contain("SQLSTATE 22003"));
        Assert.That(quarantined.Single(q => q.MessageId == $"p-{size / 2 + 1}").Reason, Does.Contain("SQLSTATE 22P05"));
        Assert.That(quarantined.Single(q => q.MessageId == $"p-{size - 3}").Raw, Does.Contain("1e400000"), "the raw message is kept for replay");
        var row = (await EventSender.TransactionsOfAsync(worker, ct)).Single(r => r.Status == "committed");
        Assert.That((row.Inserted, row.Quarantined, row.Duplicates), Is.EqualTo((size - 3, 3, 0)));
        Assert.That(quarantined.Select(q => q.TransactionId), Has.All.EqualTo(row.Id));
        Assert.That(worker.Transactions("quarantined").Count(), Is.EqualTo(3), "one log event per quarantined event");
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "the batch is not dead-lettered");
    }
}

[TestFixture, CancelAfter(120_000)]
public sealed class When_the_worker_stops_while_the_database_is_down
{
    [Test]
    public async Task Its_batch_goes_back_to_the_queue_and_is_stored_later(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("stop"), ct);
        var worker = await WorkerProcess.StartAsync(sender.Queue, new Dictionary<string, string> { ["Ingest__Worker__ConsumerStopTimeout"] = "00:00:03" });
        IReadOnlyList<string> ids;
        try
        {
            await TestStack.StackAsync("stop-postgres");
            await using (worker)
            {
                ids = await sender.SendAsync("s", messages: 10, eventsEach: 10, ct);
                await Eventually.HoldsAsync(_ => Task.FromResult(worker.Transactions("retrying").Any()), TimeSpan.FromSeconds(30), () => "the worker retrying its batch");

                await worker.StopAsync(TimeSpan.FromSeconds(30));

                Assert.That(worker.ExitCode, Is.Zero, worker.Output);
                Assert.That(worker.Log.Any(p => p.TryGetProperty("Error", out var error) && error.GetString()!.Contains("worker stopping")),
                    Is.True, "the abandoned transaction is in the log");
            }
            await Eventually.HoldsAsync(async t => await EventSender.ReadyMessagesAsync(sender.Queue, t) == 10, TimeSpan.FromSeconds(30),
                () => "the batch's messages back in the queue");
            Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "none moved to the error queue");
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
        }

        await using var restarted = await WorkerProcess.StartAsync(sender.Queue);
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= 100, TimeSpan.FromSeconds(30), () => "stored after the restart");
        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty);
        Assert.That(repeated, Is.Empty);
    }
}

[TestFixture, CancelAfter(60_000)]
public sealed class When_the_worker_is_running
{
    [Test]
    public async Task Ready_reports_the_database_and_the_bus(CancellationToken ct)
    {
        await using var worker = await WorkerProcess.StartAsync(EventSender.NewQueue("health"));

        var (status, body) = await worker.GetAsync("/health/ready", ct);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
        var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks").EnumerateObject().Select(c => c.Name).ToList();
        Assert.That(checks, Does.Contain("postgres"));
        Assert.That(checks, Has.Some.Contains("masstransit").Or.Some.Contains("bus"), body);
        Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("service").GetString(), Is.EqualTo("ingest-worker"));
    }
}

[TestFixture, CancelAfter(120_000)]
public sealed class When_optional_times_are_set_on_some_events_only
{
    // Found by the lag benchmark: an array whose first value was null took Npgsql's timestamp-without-time-zone, and
    // the batch went to the error queue on the first UTC value after it.
    [TestCase(10)]
    [TestCase(600)]
    public async Task Every_event_is_stored_with_its_times(int count, CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("times"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);
        var sentAt = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
        var events = Enumerable.Range(0, count).Select(i => sender.Event($"t-{i}") with
        {
            OriginalTimestamp = i % 2 == 0 ? null : sentAt.AddSeconds(-i),
            SentAt = i % 3 == 0 ? null : sentAt,
        }).ToList();

        await sender.SendAsync(events, ct);

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= count, TimeSpan.FromSeconds(30),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of {count} stored; error queue {sender.ErrorQueueMessagesAsync(CancellationToken.None).Result}");
        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        var stored = (await conn.QueryAsync<(string MessageId, DateTime? OriginalTimestamp, DateTime? SentAt)>(new CommandDefinition(
            "select message_id, original_timestamp, sent_at from events where source_id = @Source", new { sender.Source }, cancellationToken: ct))).ToDictionary(r => r.MessageId);
        Assert.That(stored["t-1"].OriginalTimestamp, Is.EqualTo(sentAt.AddSeconds(-1).UtcDateTime));
        Assert.That(stored["t-0"].OriginalTimestamp, Is.Null);
        Assert.That(stored["t-1"].SentAt, Is.EqualTo(sentAt.UtcDateTime));
        Assert.That(stored["t-3"].SentAt, Is.Null);
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero);
    }
}
