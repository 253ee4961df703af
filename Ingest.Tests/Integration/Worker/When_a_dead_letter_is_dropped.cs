namespace Ingest.Tests.Integration.Worker;

/// <summary>Three dead letters; the operator drops the middle one by its message id.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_a_dead_letter_is_dropped
{
    [Test]
    public async Task Exactly_that_one_is_removed_and_the_others_stay_in_order(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("dl-drop"), ct);
        var ids = await sender.SendToErrorQueueAsync("drop", messages: 3, eventsEach: 1, ct);

        var dropped = await DeadLetterCommandLine.SucceedsAsync(sender.Queue, $"drop {ids[1]}");
        var (exitCode, again) = await DeadLetterCommandLine.RunAsync(sender.Queue, $"drop {ids[1]}");
        var listed = DeadLetterCommandLine.Listed(await DeadLetterCommandLine.SucceedsAsync(sender.Queue, "list"));

        Assert.That(dropped, Does.Contain($"dropped {ids[1]}"));
        Assert.That(exitCode, Is.Not.Zero, "it is gone: a second drop finds nothing");
        Assert.That(again, Does.Contain($"no dead letter {ids[1]}"));
        Assert.That(listed.Select(l => l.MessageId), Is.EqualTo(new[] { ids[0].ToString(), ids[2].ToString() }));
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.EqualTo(2));
        Assert.That(await sender.StoredAsync(ct), Is.Zero, "a dropped message is not stored");
    }
}
