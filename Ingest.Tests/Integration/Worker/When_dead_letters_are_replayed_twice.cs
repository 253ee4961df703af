namespace Ingest.Tests.Integration.Worker;

/// <summary>The same dead letters replayed by two operators at once, or again after their events were stored.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_dead_letters_are_replayed_twice
{
    [Test]
    public async Task Two_concurrent_replays_store_each_event_once(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("dl-concurrent"), ct);
        await sender.SendToErrorQueueAsync("concurrent", messages: 20, eventsEach: 5, ct);
        var eventIds = Enumerable.Range(0, 100).Select(n => $"concurrent-{n}").ToList();
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);

        var replays = await Task.WhenAll(
            DeadLetterCommandLine.RunAsync(sender.Queue, "replay --all"),
            DeadLetterCommandLine.RunAsync(sender.Queue, "replay --all"));

        Assert.That(replays.Select(r => r.ExitCode), Is.All.Zero, string.Join('\n', replays.Select(r => r.Output)));
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= 100 && await EventSender.ReadyMessagesAsync(sender.Queue, t) == 0,
            TimeSpan.FromSeconds(30), () => $"{sender.StoredAsync(CancellationToken.None).Result} of 100 stored");
        var (missing, repeated) = await sender.CheckStoredOnceAsync(eventIds, ct);
        Assert.That(missing, Is.Empty);
        Assert.That(repeated, Is.Empty);
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(100));
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero);
    }

    [Test]
    public async Task A_replay_of_events_already_stored_stores_nothing_again(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("dl-stored"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);
        var eventIds = await sender.SendAsync("stored", messages: 3, eventsEach: 4, ct);
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) == 12, TimeSpan.FromSeconds(30),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of 12 stored");
        // The same events (same message ids) dead-lettered as well, as a crash between confirm and ack would leave them.
        await sender.SendToErrorQueueAsync("stored", messages: 3, eventsEach: 4, ct);

        await DeadLetterCommandLine.SucceedsAsync(sender.Queue, "replay --all");

        await Eventually.HoldsAsync(async t => (await EventSender.TransactionsOfAsync(worker, t)).Where(x => x.Status == "committed").Sum(x => x.Duplicates) == 12,
            TimeSpan.FromSeconds(30), () => "the worker did not see the replayed events as duplicates");
        var (missing, repeated) = await sender.CheckStoredOnceAsync(eventIds, ct);
        Assert.That(missing, Is.Empty);
        Assert.That(repeated, Is.Empty);
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(12));
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero);
    }
}
