namespace Ingest.Tests.Integration.Worker;

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
