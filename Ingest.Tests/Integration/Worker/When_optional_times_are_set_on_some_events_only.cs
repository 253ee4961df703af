using Dapper;

namespace Ingest.Tests.Integration.Worker;

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
