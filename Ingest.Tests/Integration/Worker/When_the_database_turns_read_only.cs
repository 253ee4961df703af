namespace Ingest.Tests.Integration.Worker;

/// <summary>A failover left the worker on a read-only node (SQLSTATE 25006).</summary>
public sealed class When_the_database_turns_read_only : OwnDatabaseTest
{
    [Test, CancelAfter(150_000)]
    public async Task Events_wait_in_the_queue_and_are_stored_once_it_is_writable(CancellationToken ct)
    {

        var outcome = await FaultDrill.RunAsync(Db, "25006",
            breakIt: async () =>
            {
                await OwnDatabase.ExecuteOnServerAsync($"alter database {Db.Name} set default_transaction_read_only = on");
                await Db.TerminateConnectionsAsync();
            },
            fixIt: async () =>
            {
                await OwnDatabase.ExecuteOnServerAsync($"alter database {Db.Name} reset default_transaction_read_only");
                await Db.TerminateConnectionsAsync();
            }, ct);

        FaultDrill.AssertAlerts(outcome, "point ConnectionStrings:Postgres at the primary");
    }
}
