namespace Ingest.Tests.Integration.Worker;

[TestFixture, CancelAfter(120_000)]
public sealed class When_the_same_events_arrive_twice
{
    [Test]
    public async Task They_are_stored_once_and_the_second_copies_are_counted_as_duplicates(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("twice"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);
        var ids = await sender.SendAsync("d", messages: 20, eventsEach: 50, ct);
        await Eventually.HoldsAsync(async t => (await EventSender.TransactionsOfAsync(worker, t)).Sum(r => r.Inserted) >= 1000, TimeSpan.FromSeconds(30), () => "first copies");

        await sender.SendAsync("d", messages: 20, eventsEach: 50, ct);
        await Eventually.HoldsAsync(async t => (await EventSender.TransactionsOfAsync(worker, t)).Sum(r => r.Inserted + r.Duplicates) >= 2000, TimeSpan.FromSeconds(30),
            () => "second copies");

        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty);
        Assert.That(repeated, Is.Empty);
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(1000));
        var rows = (await EventSender.TransactionsOfAsync(worker, ct)).Where(r => r.Status == "committed").ToList();
        Assert.That(rows.Sum(r => r.Inserted), Is.EqualTo(1000));
        Assert.That(rows.Sum(r => r.Duplicates), Is.EqualTo(1000));
        Assert.That(worker.Transactions("committed").Sum(p => p.GetProperty("Duplicates").GetInt32()), Is.EqualTo(1000), "duplicates in the structured log");
    }
}
