using Dapper;

namespace Ingest.Tests.Integration.Privacy;

/// <summary>
/// A worker has taken a batch holding a subject's events and another user's, and its insert waits (the test holds a
/// lock on events, as a long transaction or a slow disk would); a deletion of the subject is recorded meanwhile. When
/// the insert goes on, the subject's events are not stored, and the other user's are.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_a_subject_is_deleted_while_a_worker_holds_its_events : PrivacyTest
{
    [Test]
    public async Task The_worker_s_insert_skips_them()
    {
        await Stack.StartDrainingWorkerAsync();
        await using var holder = await TestStack.Database.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("lock table events in share mode", transaction: hold);

        using (var response = await Stack.SendAsync("/v1/batch", new { batch = new object[]
        {
            new { type = "track", userId = "b-user", @event = "In hand 1" },
            new { type = "track", userId = "b-other", @event = "In hand 2" },
            new { type = "track", userId = "b-user", @event = "In hand 3" },
            new { type = "track", userId = "b-other", @event = "In hand 4" },
        } }))
            Assert.That((int)response.StatusCode, Is.EqualTo(200));
        await Eventually.HoldsAsync(async _ => await WaitingInsertsAsync() > 0, TimeSpan.FromSeconds(30),
            () => $"the worker's insert waiting on the lock\n{Stack.DrainerOutput}");

        var id = await Stack.RequestAsync("delete", new { userId = "b-user" });
        await Eventually.HoldsAsync(async _ => await ErasureRecordedAsync(Stack.SourceId, id), TimeSpan.FromSeconds(30), () => "the erasure recorded");
        await hold.RollbackAsync();

        var receipt = await Stack.DoneAsync(id);
        await Eventually.HoldsAsync(async _ => await Stack.StoredAsync(userId: "b-other") == 2, TimeSpan.FromSeconds(30),
            () => $"the other user's events stored\n{Stack.DrainerOutput}");
        Assert.That(await Stack.StoredAsync(userId: "b-user"), Is.Zero, "none of the subject's events that the worker held");
        Assert.That(receipt.GetProperty("removed").GetProperty("events").GetInt64(), Is.Zero, "nothing was stored to remove");
    }

    static async Task<long> WaitingInsertsAsync()
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("""
            select count(*) from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query ilike '%insert into events%'
            """);
    }

    static async Task<bool> ErasureRecordedAsync(string sourceId, Guid id)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<bool>("select exists (select 1 from privacy_filters where source_id = @sourceId and erased_by = @id)", new { sourceId, id });
    }
}
