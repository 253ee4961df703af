namespace Ingest.Tests.Integration.Worker;

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
