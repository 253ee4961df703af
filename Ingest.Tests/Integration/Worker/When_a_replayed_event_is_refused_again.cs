using System.Text.Json;
using Dapper;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// A replay marks the quarantined row replayed and publishes the event in one transaction of the API, which commits once
/// the broker has confirmed. The worker can receive the event before that commit: if the database refuses it again, it
/// must end in quarantine again, never neither stored nor quarantined. The test holds the replay's transaction open as
/// the API does (QuarantineApi) while the event travels.
/// </summary>
[TestFixture, CancelAfter(90_000)]
public sealed class When_a_replayed_event_is_refused_again
{
    const string CountQuarantined = "select count(*) filter (where replayed_at is null) as Open, count(*) as Total from quarantined_events where source_id = @Source and message_id = @MessageId";

    [Test]
    public async Task It_is_quarantined_again_even_when_the_worker_sees_it_before_the_replay_commits(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("replay"), ct);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue);
        var refused = sender.Event($"refused-{Guid.NewGuid()}", JsonDocument.Parse("""{"n":1e400000}""").RootElement);
        await sender.SendAsync([refused], ct);
        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        var query = new { sender.Source, refused.MessageId };
        await Eventually.HoldsAsync(async t => (await conn.QuerySingleAsync<(long Open, long Total)>(new CommandDefinition(CountQuarantined, query, cancellationToken: t))).Open == 1,
            TimeSpan.FromSeconds(30), () => "the event quarantined a first time");
        var committedBefore = (await EventSender.TransactionsOfAsync(worker, ct)).Count(r => r.Status == "committed");

        await using (var replay = await TestStack.Database.OpenConnectionAsync(ct))
        {
            await using var tx = await replay.BeginTransactionAsync(ct);
            await replay.ExecuteAsync(new CommandDefinition("update quarantined_events set replayed_at = now() where source_id = @Source and message_id = @MessageId and replayed_at is null",
                query, tx, cancellationToken: ct));
            await sender.SendAsync([refused], ct);
            // The worker has handled the event before the replay commits: it committed its transaction, or it waits on the replay's row.
            await Eventually.HoldsAsync(async t =>
                (await EventSender.TransactionsOfAsync(worker, t)).Count(r => r.Status == "committed") > committedBefore
                || await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "select exists (select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database())", cancellationToken: t)),
                TimeSpan.FromSeconds(30), () => "the worker to handle the replayed event");
            await tx.CommitAsync(ct);
        }

        await Eventually.HoldsAsync(async t => (await conn.QuerySingleAsync<(long Open, long Total)>(new CommandDefinition(CountQuarantined, query, cancellationToken: t))) == (1, 2),
            TimeSpan.FromSeconds(30), () => "the event in quarantine again: one replayed row and one open row");
        Assert.That(await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from events where source_id = @Source", query, cancellationToken: ct)), Is.Zero);
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero);
    }
}
