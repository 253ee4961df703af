using System.Text.Json;
using Dapper;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// The drill of every test whose database fails for a reason that is not the data's: a worker (retry delays of
/// 100 ms to 1 s) stores events; the fault comes; events keep arriving while the worker fails with
/// <c>sqlState</c> and retries; the fault is fixed; events keep arriving after the fix. It asserts what holds whatever
/// the fault: the worker keeps running, nothing reaches the error queue, and once fixed every event sent is stored
/// exactly once, with no restart. It measures, by PostgreSQL's clock, how long after the fix the first batch committed
/// and the last event was stored.
/// </summary>
public static class FaultDrill
{
    public static async Task<FaultOutcome> RunAsync(OwnDatabase db, string sqlState, Func<Task> breakIt, Func<Task> fixIt, CancellationToken ct,
        string? workerConnectionString = null, TimeSpan? retryMaxDelay = null)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("fault"), ct, db.DataSource);
        await using var worker = await WorkerProcess.StartAsync(sender.Queue, new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = workerConnectionString ?? db.ConnectionString,
            ["Ingest__Worker__RetryBaseDelay"] = "00:00:00.100",
            ["Ingest__Worker__RetryMaxDelay"] = (retryMaxDelay ?? TimeSpan.FromSeconds(1)).ToString("c"),
        });
        var ids = new List<string>(await sender.SendAsync("before", messages: 5, eventsEach: 10, ct));
        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) == ids.Count, TimeSpan.FromSeconds(30), () => "events before the fault");

        await breakIt();
        try
        {
            var fault = DateTime.UtcNow;
            for (var i = 0; DateTime.UtcNow - fault < TimeSpan.FromSeconds(3) || !FailedWith(worker, sqlState).Any(); i++)
            {
                Assert.That(DateTime.UtcNow - fault, Is.LessThan(TimeSpan.FromSeconds(30)), $"the worker never failed with SQLSTATE {sqlState}:\n{worker.Output}");
                ids.AddRange(await sender.SendAsync($"during{i}", messages: 2, eventsEach: 10, ct));
                await Task.Delay(300, ct); // the pace of arriving traffic, not a wait for a condition
            }
            Assert.That(worker.HasExited, Is.False, "the worker keeps running through the fault");
            Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "nothing moved to the error queue during the fault");
            Assert.That(worker.Transactions("retrying").Count(), Is.GreaterThan(0), "the log shows the batch retrying");
            Assert.That(worker.Transactions("retrying"), Has.All.Matches<JsonElement>(e => e.TryGetProperty("PoolRenewed", out var renewed) && renewed.GetBoolean()),
                "each retry says it runs on new database sessions");
        }
        finally
        {
            await fixIt();
        }
        var fixedAt = await ScalarAsync<DateTime>(db, "select clock_timestamp()", null);
        ids.AddRange(await sender.SendAsync("after", messages: 2, eventsEach: 10, ct));

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= ids.Count, TimeSpan.FromSeconds(60),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of {ids.Count} stored after the fix; error queue {sender.ErrorQueueMessagesAsync(CancellationToken.None).Result}");
        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty, "every event sent is stored");
        Assert.That(repeated, Is.Empty, "none twice");
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(ids.Count), "and nothing else");
        Assert.That(worker.HasExited, Is.False, "resumed without a restart");
        Assert.That(await sender.ErrorQueueMessagesAsync(ct), Is.Zero, "nothing in the error queue");
        return new FaultOutcome(FailedWith(worker, sqlState).ToList(), await EventSender.TransactionsOfAsync(worker, ct, db.DataSource),
            await ScalarAsync<DateTime>(db, "select min(finished_at) from ingest_transactions where status = 'committed' and finished_at > @FixedAt", new { FixedAt = fixedAt }) - fixedAt,
            await ScalarAsync<DateTime>(db, "select max(stored_at) from events where source_id = @Source", new { sender.Source }) - fixedAt);
    }

    static async Task<T> ScalarAsync<T>(OwnDatabase db, string sql, object? args)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<T>(sql, args) ?? throw new InvalidOperationException($"no value: {sql}");
    }

    static IEnumerable<JsonElement> FailedWith(WorkerProcess worker, string sqlState) =>
        worker.Transactions("failed").Where(e => e.TryGetProperty("Error", out var error) && error.GetString()!.Contains($"SQLSTATE {sqlState}", StringComparison.Ordinal));

    /// <summary>The alert ops see: the failure at level Error, with what they must do.</summary>
    public static void AssertAlerts(FaultOutcome outcome, string action)
    {
        Assert.That(outcome.FailedLog, Is.Not.Empty, "the failure is in the worker's log");
        Assert.That(outcome.FailedLog, Has.Some.Matches<JsonElement>(e =>
                e.TryGetProperty("@l", out var level) && level.GetString() == "Error"
                && e.TryGetProperty("Action", out var a) && a.GetString()!.Contains(action, StringComparison.Ordinal)),
            $"an Error-level failure whose Action says \"{action}\"; logged: {string.Join('\n', outcome.FailedLog)}");
        Assert.That(outcome.Transactions, Has.Some.Matches<TransactionRow>(r => r.Status == "failed" && r.Error is not null), "failed attempts in ingest_transactions");
        Assert.That(outcome.Transactions, Has.Some.Matches<TransactionRow>(r => r.Status == "committed" && r.Attempt > 1), "committed on a later attempt");
    }
}
