using System.Text.Json;
using Dapper;

namespace Ingest.Tests.Integration.Worker;

[TestFixture, CancelAfter(120_000)]
public sealed class When_ten_thousand_events_arrive
{
    [Test]
    public async Task Each_is_stored_once_and_the_transaction_log_counts_them(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("10k"), ct);
        var ids = await sender.SendAsync("e", messages: 100, eventsEach: 100, ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= 10_000, TimeSpan.FromSeconds(60),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of 10000 stored");

        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty, "every event stored");
        Assert.That(repeated, Is.Empty, "no event stored twice");
        var rows = await EventSender.TransactionsOfAsync(worker, ct);
        Assert.That(rows.Where(r => r.Status == "committed").Sum(r => r.Inserted), Is.EqualTo(10_000), "inserted counts in ingest_transactions");
        var committed = worker.Transactions("committed").ToList();
        Assert.That(committed.Sum(p => p.GetProperty("Inserted").GetInt32()), Is.EqualTo(10_000), "inserted counts in the structured log");
        Assert.That(committed.Select(p => p.GetProperty("TransactionId").GetString()), Is.EquivalentTo(rows.Where(r => r.Status == "committed").Select(r => r.Id.ToString())),
            "the log and the table record the same transactions");
        Assert.That(committed, Has.All.Matches<JsonElement>(p =>
            p.TryGetProperty("EventCount", out _) && p.TryGetProperty("Duplicates", out _) && p.TryGetProperty("Quarantined", out _)
            && p.TryGetProperty("ElapsedMs", out _) && p.TryGetProperty("Attempt", out _)));
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero);

        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        var seconds = await conn.ExecuteScalarAsync<double>(new CommandDefinition(
            "select extract(epoch from max(stored_at) - min(stored_at)) from events where source_id = @Source", new { sender.Source }, cancellationToken: ct));
        await TestContext.Progress.WriteLineAsync($"10,000 events (100 messages of 100) stored in {seconds:0.000} s from first to last: {10_000 / Math.Max(seconds, 0.001):0} events/s; {rows.Count} transactions");
    }
}
