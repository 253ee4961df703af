using Dapper;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Privacy;

/// <summary>
/// A deletion of 20,000 events, 100 a batch, is under way when its worker is killed (SIGKILL). Two workers start
/// after it: one takes the request over once the dead worker's claim runs out, the other never runs it.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_the_worker_is_killed_in_the_middle_of_a_deletion
{
    const int SubjectEvents = 20_000;

    static readonly Dictionary<string, string> Settings = new()
    {
        ["Ingest__Privacy__BatchSize"] = "100",
        ["Ingest__Privacy__ClaimTimeout"] = "00:00:02",
    };

    [Test]
    public async Task The_request_resumes_and_completes_exactly()
    {
        await using var stack = await PrivacyStack.StartAsync(Settings);
        await using (var conn = await TestStack.Database.OpenConnectionAsync())
            await conn.ExecuteAsync("""
                insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at)
                select @SourceId, 'k-' || n, 'track', 'Many', case when n <= @SubjectEvents then 'k-user' else 'other-user' end, now(), now()
                from generate_series(1, @SubjectEvents + 500) as n
                """, new { stack.SourceId, SubjectEvents });

        var id = await stack.RequestAsync("delete", new { userId = "k-user" });
        long removedWhenKilled = 0;
        await Eventually.HoldsAsync(async _ => (removedWhenKilled = await RemovedAsync(id)) > 0, TimeSpan.FromSeconds(60), () => "the deletion under way");
        await using var killed = stack.PrivacyWorker;
        await killed.KillAsync();
        removedWhenKilled = await RemovedAsync(id);
        Assert.That(removedWhenKilled, Is.LessThan(SubjectEvents), "killed in the middle");
        Assert.That((await stack.StatusAsync(id)).GetProperty("status").GetString(), Is.EqualTo("running"));

        var first = stack.PrivacyWorker = await stack.StartPrivacyWorkerAsync(Settings);
        await using var second = await stack.StartPrivacyWorkerAsync(Settings);
        var receipt = await stack.DoneAsync(id);

        Assert.That(receipt.GetProperty("removed").GetProperty("events").GetInt64(), Is.EqualTo(SubjectEvents), $"every event counted once: {receipt}");
        Assert.That(await stack.StoredAsync(userId: "k-user"), Is.Zero);
        Assert.That(await stack.StoredAsync(userId: "other-user"), Is.EqualTo(500), "every other event intact");
        var ran = new[] { first, second }.Count(w => w.Log.Any(e => e.TryGetProperty("PrivacyRequestId", out var r) && r.GetString() == id.ToString()));
        Assert.That(ran, Is.EqualTo(1), "one of the two new workers ran it, not both");
    }

    static async Task<long> RemovedAsync(Guid id)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select removed_events from privacy_requests where id = @id", new { id });
    }
}
