namespace Ingest.Tests.Integration.Worker;

/// <summary>The worker's role lost its grant to insert into events (SQLSTATE 42501).</summary>
[TestFixture, CancelAfter(150_000)]
public sealed class When_the_worker_may_not_insert
{
    [Test]
    public async Task Events_wait_in_the_queue_and_are_stored_once_the_grant_is_back(CancellationToken ct)
    {
        await using var db = await OwnDatabase.CreateAsync();
        var asWorkerRole = await db.CreateWorkerRoleAsync();

        var outcome = await FaultDrill.RunAsync(db, "42501",
            breakIt: () => db.ExecuteAsync($"revoke insert on events from {db.Role}"),
            fixIt: () => db.ExecuteAsync($"grant insert on events to {db.Role}"), ct,
            workerConnectionString: asWorkerRole);

        FaultDrill.AssertAlerts(outcome, "grant INSERT");
    }
}
