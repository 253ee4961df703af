namespace Ingest.Tests.Integration.Worker;

/// <summary>A bad deploy left the database without the events table (SQLSTATE 42P01).</summary>
[TestFixture, CancelAfter(150_000)]
public sealed class When_the_events_table_is_missing
{
    [Test]
    public async Task Events_wait_in_the_queue_and_are_stored_once_it_is_back(CancellationToken ct)
    {
        await using var db = await OwnDatabase.CreateAsync();

        var outcome = await FaultDrill.RunAsync(db, "42P01",
            breakIt: () => db.ExecuteAsync("alter table events rename to events_moved_away"),
            fixIt: () => db.ExecuteAsync("alter table events_moved_away rename to events"), ct);

        FaultDrill.AssertAlerts(outcome, "Ingest.Worker migrate");
    }
}
