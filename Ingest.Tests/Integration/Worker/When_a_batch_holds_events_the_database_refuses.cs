using System.Text.Json;
using Dapper;

namespace Ingest.Tests.Integration.Worker;

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
