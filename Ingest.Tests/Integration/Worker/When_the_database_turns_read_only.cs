namespace Ingest.Tests.Integration.Worker;

/// <summary>A failover left the worker on a read-only node (SQLSTATE 25006).</summary>
[TestFixture, CancelAfter(150_000)]
public sealed class When_the_database_turns_read_only
{
    [Test]
    public async Task Events_wait_in_the_queue_and_are_stored_once_it_is_writable(CancellationToken ct)
    {
        await using var db = await OwnDatabase.CreateAsync();

        var outcome = await FaultDrill.RunAsync(db, "25006",
            breakIt: async () =>
            {
                await OwnDatabase.ExecuteOnServerAsync($"alter database {db.Name} set default_transaction_read_only = on");
                await db.TerminateConnectionsAsync();
            },
            fixIt: async () =>
            {
                await OwnDatabase.ExecuteOnServerAsync($"alter database {db.Name} reset default_transaction_read_only");
                await db.TerminateConnectionsAsync();
            }, ct);

        FaultDrill.AssertAlerts(outcome, "point ConnectionStrings:Postgres at the primary");
    }
}
