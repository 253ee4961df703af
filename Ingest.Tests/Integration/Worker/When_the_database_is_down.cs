namespace Ingest.Tests.Integration.Worker;

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
