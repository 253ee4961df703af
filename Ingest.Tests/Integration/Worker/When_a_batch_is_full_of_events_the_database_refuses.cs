using System.Text.Json;
using Dapper;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// A poison storm: a batch of 2,500 events of which 1, 10, 100 or all are refused by PostgreSQL, of four kinds. However
/// many are refused, isolating them takes a bounded number of statements and a few seconds, so that one batch does not
/// stall every other source behind it.
/// </summary>
[TestFixture, CancelAfter(300_000)]
public sealed class When_a_batch_is_full_of_events_the_database_refuses
{
    const int BatchSize = 2500;

    /// <summary>The statements one batch write may take however many events are refused (a begin and a commit count as one each).</summary>
    const int MaxStatements = 12;

    /// <summary>The wall time of the transaction that isolates them, on a loaded two-core test machine.</summary>
    static readonly TimeSpan MaxElapsed = TimeSpan.FromSeconds(5);

    static readonly (string Kind, string SqlState)[] Kinds =
    [
        ("numeric overflow in properties", "SQLSTATE 22003"),
        ("NUL escape in properties", "SQLSTATE 22P05"),
        ("NUL character in userId", "SQLSTATE 22021"),
        ("event name too long for its index", "SQLSTATE 54000"),
    ];

    [TestCase(1)]
    [TestCase(10)]
    [TestCase(100)]
    [TestCase(BatchSize)]
    public async Task Each_is_isolated_in_a_few_statements_and_quarantined_with_its_reason(int refusedCount, CancellationToken ct)
    {
        // A database of its own, whose worker role has PostgreSQL log every statement it runs: the count comes from the server.
        await using var db = await OwnDatabase.CreateAsync();
        var asWorkerRole = await db.CreateWorkerRoleAsync();
        await db.ExecuteAsync($"alter role {db.Role} set log_statement = 'all'");
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("storm"), ct, db.DataSource);
        var step = BatchSize / refusedCount;
        var refused = Enumerable.Range(0, refusedCount).ToDictionary(r => r * step, r => r % Kinds.Length);
        var events = Enumerable.Range(0, BatchSize).Select(i => sender.Event($"s-{i}")).ToList();
        foreach (var (i, kind) in refused)
            events[i] = kind switch
            {
                0 => events[i] with { Properties = JsonDocument.Parse("""{"amount":1e400000}""").RootElement },
                1 => events[i] with { Properties = JsonDocument.Parse("""{"note":"a\u0000b"}""").RootElement },
                2 => events[i] with { UserId = "user\0one" },
                // Random characters do not compress: the row of events_source_event_time is over btree's 2,704 bytes.
                _ => events[i] with { Event = string.Concat(Enumerable.Range(0, 100).Select(_ => Guid.NewGuid().ToString("N"))) },
            };
        // The privacy runner's look for requests (every second) is not the write path's: once at start, then not in the window.
        await using var worker = await WorkerProcess.StartAsync(sender.Queue, new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = asWorkerRole,
            ["Ingest__Privacy__PollInterval"] = "00:10:00",
        });
        long logStart;
        await using (var admin = await db.DataSource.OpenConnectionAsync(ct))
            logStart = await admin.ExecuteScalarAsync<long>(new CommandDefinition("select (pg_stat_file('log')).size", cancellationToken: ct));
        await sender.SendAsync(events, ct);

        await Eventually.HoldsAsync(async t => (await EventSender.TransactionsOfAsync(worker, t, db.DataSource)).Any(r => r.Status == "committed")
            && worker.Transactions("committed").Any(), TimeSpan.FromSeconds(240), () => "the batch committed, in the database and the log");

        var committed = worker.Transactions("committed").Single();
        var elapsed = TimeSpan.FromMilliseconds(committed.GetProperty("ElapsedMs").GetInt64());
        var (statements, failed) = await StatementsLoggedSinceAsync(db, logStart, ct);
        await TestContext.Progress.WriteLineAsync(
            $"{refusedCount} refused in a batch of {BatchSize}: committed in {elapsed.TotalMilliseconds:0} ms; {statements} statements, {failed} of them failing");

        var good = events.Where((_, i) => !refused.ContainsKey(i)).Select(e => e.MessageId).ToList();
        var (missing, repeated) = await sender.CheckStoredOnceAsync(good, ct);
        Assert.That(missing, Is.Empty, "the good events are stored");
        Assert.That(repeated, Is.Empty);
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(BatchSize - refusedCount), "and only they");

        await using var conn = await db.DataSource.OpenConnectionAsync(ct);
        var quarantined = (await conn.QueryAsync<(string MessageId, string Reason)>(new CommandDefinition(
            "select message_id, reason from quarantined_events where source_id = @Source", new { sender.Source }, cancellationToken: ct))).ToList();
        Assert.That(quarantined.Select(q => q.MessageId), Is.EquivalentTo(refused.Keys.Select(i => $"s-{i}")), "exactly the refused ones are quarantined");
        var reasons = quarantined.ToDictionary(q => q.MessageId, q => q.Reason);
        foreach (var (i, kind) in refused)
            Assert.That(reasons[$"s-{i}"], Does.Contain(Kinds[kind].SqlState), $"s-{i}: {Kinds[kind].Kind}");
        var row = (await EventSender.TransactionsOfAsync(worker, ct, db.DataSource)).Single(r => r.Status == "committed");
        Assert.That((row.Inserted, row.Quarantined, row.Duplicates), Is.EqualTo((BatchSize - refusedCount, refusedCount, 0)), "the transaction log counts them");
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "nothing in the error queue");

        Assert.That(elapsed, Is.LessThan(MaxElapsed), "isolated within a few seconds");
        Assert.That(statements, Is.LessThanOrEqualTo(MaxStatements), "in a bounded number of statements");
    }

    /// <summary>The statements (and failing ones) in PostgreSQL's log after <paramref name="offset"/>: only the worker's role logs statements.</summary>
    static async Task<(int Statements, int Failed)> StatementsLoggedSinceAsync(OwnDatabase db, long offset, CancellationToken ct)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync(ct);
        var log = await conn.ExecuteScalarAsync<string>(new CommandDefinition(
            "select pg_read_file('log', @offset, (pg_stat_file('log')).size - @offset)", new { offset }, cancellationToken: ct));
        var lines = log!.Split('\n');
        return (lines.Count(l => l.Contains("LOG:  statement: ") || l.Contains("LOG:  execute ")), lines.Count(l => l.Contains(" ERROR:  ")));
    }
}
