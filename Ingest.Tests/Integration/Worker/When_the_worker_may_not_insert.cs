namespace Ingest.Tests.Integration.Worker;

/// <summary>The worker's role lost its grant to insert into events (SQLSTATE 42501).</summary>
public sealed class When_the_worker_may_not_insert : OwnDatabaseTest
{
    [Test, CancelAfter(150_000)]
    public async Task Events_wait_in_the_queue_and_are_stored_once_the_grant_is_back(CancellationToken ct)
    {
        var asWorkerRole = await Db.CreateWorkerRoleAsync();

        var outcome = await FaultDrill.RunAsync(Db, "42501",
            breakIt: () => Db.ExecuteAsync($"revoke insert on events from {Db.Role}"),
            fixIt: () => Db.ExecuteAsync($"grant insert on events to {Db.Role}"), ct,
            workerConnectionString: asWorkerRole);

        FaultDrill.AssertAlerts(outcome, "grant INSERT");
    }
}
