namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// RabbitMQ closes a channel that holds a delivery unacknowledged for longer than its consumer_timeout (30 min by
/// default, node-wide in 3.10). Here the test broker's timeout is 15 s and the database stays down for 30 s while events
/// keep arriving: the worker must not hold its batch past the timeout, or RabbitMQ redelivers it to a new channel while
/// the old copy is still held and retried.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_the_database_is_down_longer_than_the_consumer_timeout
{
    const int ConcurrencyLimit = 2;

    [Test]
    public async Task Every_event_is_stored_once_without_redelivered_copies_piling_up(CancellationToken ct)
    {
        // Only channels opened after this take the short timeout: set it before the worker connects.
        await TestStack.StackAsync("consumer-timeout 15000"); // the release comes ~3-4 s after delivery: a wide margin on a busy machine
        try
        {
            await RunAsync(ct);
        }
        finally
        {
            await TestStack.StackAsync("consumer-timeout default");
        }
    }

    static async Task RunAsync(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("ctimeout"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue, new Dictionary<string, string>
        {
            ["Ingest__Worker__RetryBaseDelay"] = "00:00:00.100",
            ["Ingest__Worker__RetryMaxDelay"] = "00:00:01",
            ["Ingest__Worker__ReleaseAfter"] = "00:00:02",
            ["Ingest__Worker__ResumeProbeInterval"] = "00:00:01",
            ["Ingest__Worker__ConsumerStopTimeout"] = "00:00:01",
            ["Ingest__Worker__ConcurrencyLimit"] = ConcurrencyLimit.ToString(),
        });
        var ids = new List<string>(await sender.SendAsync("before", messages: 5, eventsEach: 10, ct));
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) == ids.Count, TimeSpan.FromSeconds(30), () => "events before the outage");
        var rssBefore = ResidentKilobytes(worker);
        var rssMax = rssBefore;

        try
        {
            await TestStack.StackAsync("stop-postgres");
            var outage = DateTime.UtcNow;
            var sentDuring = 0;
            for (var i = 0; DateTime.UtcNow - outage < TimeSpan.FromSeconds(30); i++)
            {
                ids.AddRange(await sender.SendAsync($"during{i}", messages: 2, eventsEach: 10, ct));
                sentDuring += 2;
                rssMax = Math.Max(rssMax, ResidentKilobytes(worker));
                await Task.Delay(750, ct); // the pace of arriving traffic, not a wait for a condition
            }
            Assert.That(worker.HasExited, Is.False, "the worker keeps running through the outage");
            Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "nothing moved to the error queue during the outage");
            await Eventually.HoldsAsync(async t => await EventSender.ReadyMessagesAsync(sender.Queue, t) == sentDuring, TimeSpan.FromSeconds(10),
                () => $"{EventSender.ReadyMessagesAsync(sender.Queue, CancellationToken.None).Result} of the {sentDuring} messages sent during the outage wait in the queue, the worker holding none");
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
        }

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= ids.Count, TimeSpan.FromSeconds(60),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of {ids.Count} stored after the database returned");
        var rows = await EventSender.TransactionsOfAsync(worker, ct);
        var committed = rows.Where(r => r.Status == "committed").ToList();
        await TestContext.Out.WriteLineAsync(
            $"{ids.Count} events sent; {worker.Transactions("started").Count()} transactions started, {committed.Count} committed " +
            $"({committed.Sum(r => r.Inserted)} inserted, {committed.Sum(r => r.Duplicates)} duplicates); at most {MostBatchesHeld(worker)} batches held at once; " +
            $"{worker.Transactions("released").Count()} released; resident memory {rssBefore / 1024} MB before, {rssMax / 1024} MB at most during the outage");

        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty, "every event sent is stored");
        Assert.That(repeated, Is.Empty, "none twice");
        Assert.That(worker.HasExited, Is.False, "resumed without a restart");
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "nothing in the error queue");
        Assert.That(committed.Sum(r => r.Duplicates), Is.Zero, "no batch was written again from a redelivered copy");
        Assert.That(committed.Sum(r => r.Inserted), Is.EqualTo(ids.Count), "the transaction log counts each event once");
        Assert.That(MostBatchesHeld(worker), Is.LessThanOrEqualTo(ConcurrencyLimit), "the worker never held more batches than it writes at once");
        Assert.That(worker.Log.Where(e => e.TryGetProperty("@l", out var level) && level.GetString() == "Error"
                    && e.TryGetProperty("SourceContext", out var source) && source.GetString()!.StartsWith("MassTransit", StringComparison.Ordinal))
                .Select(e => e.GetProperty("@m").GetString()), Is.Empty, "no delivery faulted: RabbitMQ never closed the channel under a batch");
        Assert.That(worker.Log.Where(e => e.TryGetProperty("Error", out var error) && error.GetString()!.Contains("worker stopping")), Is.Empty,
            "no batch was cancelled as if the worker were stopping");
        Assert.That(worker.Transactions("released"), Is.Not.Empty, "the log says the batch in hand was released to RabbitMQ");
        Assert.That(worker.Transactions("paused"), Is.Not.Empty, "the log says the consumer paused");
        Assert.That(worker.Transactions("resumed"), Is.Not.Empty, "and resumed by itself");
    }

    /// <summary>The most transactions started and not yet ended (committed, released or abandoned) at any point of the log.</summary>
    static int MostBatchesHeld(WorkerProcess worker)
    {
        var held = new HashSet<string>();
        var most = 0;
        foreach (var entry in worker.Log.Where(e => e.TryGetProperty("TransactionId", out _) && e.TryGetProperty("Status", out _)))
        {
            var id = entry.GetProperty("TransactionId").GetString()!;
            switch (entry.GetProperty("Status").GetString())
            {
                case "started": held.Add(id); break;
                case "committed" or "released": held.Remove(id); break;
                case "failed" when !entry.TryGetProperty("Action", out _): held.Remove(id); break; // abandoned: the worker stopping
            }
            most = Math.Max(most, held.Count);
        }
        return most;
    }

    static long ResidentKilobytes(WorkerProcess worker) =>
        File.ReadLines($"/proc/{worker.Id}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).Single();
}
