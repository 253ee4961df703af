using Npgsql;

namespace Ingest.Tests.Integration.Worker;

/// <summary>The worker's inserts wait on a lock past its statement_timeout (SQLSTATE 57014).</summary>
public sealed class When_statements_time_out : OwnDatabaseTest
{
    [Test, CancelAfter(150_000)]
    public async Task Events_wait_in_the_queue_and_are_stored_once_they_fit_in_time(CancellationToken ct)
    {
        NpgsqlConnection? holder = null;
        NpgsqlTransaction? lockTx = null;

        var outcome = await FaultDrill.RunAsync(Db, "57014",
            breakIt: async () =>
            {
                holder = await Db.DataSource.OpenConnectionAsync(ct);
                lockTx = await holder.BeginTransactionAsync(ct);
                await using var lockEvents = new NpgsqlCommand("lock table events in share mode", holder, lockTx);
                await lockEvents.ExecuteNonQueryAsync(ct);
            },
            fixIt: async () =>
            {
                await lockTx!.RollbackAsync(CancellationToken.None);
                await holder!.DisposeAsync();
            }, ct,
            workerConnectionString: Db.ConnectionString + ";Options=-c statement_timeout=300");

        FaultDrill.AssertAlerts(outcome, "raise statement_timeout or lower Ingest:Worker:MessageLimit");
    }
}
