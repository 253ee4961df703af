namespace Ingest.Tests.Integration.Worker;

/// <summary>Two unreadable messages and three readable ones in _error, all replayed from the command line to a running worker.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_dead_letters_are_replayed
{
    [Test]
    public async Task The_readable_are_stored_once_and_only_the_unreadable_stay_in_the_error_queue(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("dl-replay"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);
        await DeadLetterCommandLine.DeadLetterUnreadableAsync(sender, ct);
        var readable = await sender.SendToErrorQueueAsync("replayed", messages: 3, eventsEach: 5, ct);
        var eventIds = Enumerable.Range(0, 15).Select(n => $"replayed-{n}").ToList();
        Assert.That(await sender.StoredAsync(ct), Is.Zero, "nothing is stored before the replay");

        var output = await DeadLetterCommandLine.SucceedsAsync(sender.Queue, "replay --all");

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) == 15 && await sender.ErrorQueueMessagesAsync(t) == DeadLetterCommandLine.Unreadable.Length
                && await EventSender.ReadyMessagesAsync(sender.Queue, t) == 0,
            TimeSpan.FromSeconds(30), () => $"{sender.StoredAsync(CancellationToken.None).Result} of 15 stored");
        var (missing, repeated) = await sender.CheckStoredOnceAsync(eventIds, ct);
        Assert.That(missing, Is.Empty);
        Assert.That(repeated, Is.Empty);
        Assert.That(output, Does.Contain("5 dead letter(s) moved"));
        foreach (var id in readable) Assert.That(output, Does.Contain($"replayed {id}"));
        var left = await EventSender.TakeAllAsync($"{sender.Queue}_error", ct);
        Assert.That(left, Is.EquivalentTo(DeadLetterCommandLine.Unreadable), "the unreadable ones came back to _error, as sent; nothing else is there");
    }

    [Test]
    public async Task One_replayed_by_its_id_leaves_the_others_in_place(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("dl-replay-one"), ct);
        var readable = await sender.SendToErrorQueueAsync("one", messages: 3, eventsEach: 2, ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);

        var output = await DeadLetterCommandLine.SucceedsAsync(sender.Queue, $"replay {readable[1]}");
        var (exitCode, again) = await DeadLetterCommandLine.RunAsync(sender.Queue, $"replay {readable[1]}");

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) == 2, TimeSpan.FromSeconds(30),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of 2 stored");
        var (missing, _) = await sender.CheckStoredOnceAsync(["one-2", "one-3"], ct);
        Assert.That(missing, Is.Empty, "the events of the second message");
        Assert.That(output, Does.Contain($"replayed {readable[1]}"));
        Assert.That(exitCode, Is.Not.Zero, "a second replay of the same id finds nothing to replay");
        Assert.That(again, Does.Contain($"no dead letter {readable[1]}"));
        var listed = DeadLetterCommandLine.Listed(await DeadLetterCommandLine.SucceedsAsync(sender.Queue, "list"));
        Assert.That(listed.Select(l => l.MessageId), Is.EqualTo(new[] { readable[0].ToString(), readable[2].ToString() }), "the others, in order");
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(2));
    }
}
