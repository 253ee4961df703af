namespace Ingest.Tests.Integration.Worker;

/// <summary>Two messages MassTransit dead-lettered itself, then two readable ones put in _error, listed from the command line.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_dead_letters_are_listed
{
    [Test]
    public async Task Each_is_shown_with_its_fault_and_all_stay_in_the_error_queue_in_order(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("dl-list"), ct);
        await using (await WorkerProcess.StartAsync(sender.Queue))
            await DeadLetterCommandLine.DeadLetterUnreadableAsync(sender, ct);
        var readable = await sender.SendToErrorQueueAsync("listed", messages: 2, eventsEach: 3, ct);
        var headers = await DeadLetterCommandLine.HeadersOfFirstAsync($"{sender.Queue}_error", ct);
        foreach (var (name, value) in headers)
            await TestContext.Out.WriteLineAsync($"{name}: {(value.Length > 200 ? value[..200] + "…" : value)}");

        var first = await DeadLetterCommandLine.SucceedsAsync(sender.Queue, "list");
        var second = await DeadLetterCommandLine.SucceedsAsync(sender.Queue, "list --limit 10");
        var limited = await DeadLetterCommandLine.SucceedsAsync(sender.Queue, "list --limit 3");

        var listed = DeadLetterCommandLine.Listed(first);
        Assert.That(listed.Select(l => l.Position), Is.EqualTo(new[] { 1, 2, 3, 4 }), first);
        Assert.That(listed.Skip(2).Select(l => l.MessageId), Is.EqualTo(readable.Select(id => id.ToString())), "the readable ones, last, in the order they came");
        Assert.That(DeadLetterCommandLine.Listed(second), Is.EqualTo(listed), "a second listing finds the same messages in the same order");
        Assert.That(DeadLetterCommandLine.Listed(limited), Is.EqualTo(listed.Take(3)));
        var notJson = listed.Single(l => l.Line.Contains("18 B", StringComparison.Ordinal));
        Assert.That(first, Does.Contain("\"{ this is not json\""), "the first bytes of the body");
        Assert.That(notJson.Line, Does.Contain("Exception").And.Contain(DateTime.UtcNow.ToString("yyyy-MM-dd")), "the fault's type and message, and when");
        Assert.That(headers.Keys, Does.Contain("MT-Fault-Message").And.Contain("MT-Fault-Timestamp").And.Contain("MT-Reason"));
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.EqualTo(4), "listing consumes nothing");
        Assert.That(await sender.StoredAsync(ct), Is.Zero);
    }
}
