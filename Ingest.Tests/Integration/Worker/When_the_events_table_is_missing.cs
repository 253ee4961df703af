namespace Ingest.Tests.Integration.Worker;

/// <summary>A bad deploy left the database without the events table (SQLSTATE 42P01).</summary>
public sealed class When_the_events_table_is_missing : OwnDatabaseTest
{
    [Test, CancelAfter(150_000)]
    public async Task Events_wait_in_the_queue_and_are_stored_once_it_is_back(CancellationToken ct)
    {

        var outcome = await FaultDrill.RunAsync(Db, "42P01",
            breakIt: () => Db.ExecuteAsync("alter table events rename to events_moved_away"),
            fixIt: () => Db.ExecuteAsync("alter table events_moved_away rename to events"), ct);

        FaultDrill.AssertAlerts(outcome, "Ingest.Worker migrate");
    }
}
