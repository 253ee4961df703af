using Npgsql;

namespace Ingest.Tests.Integration.Worker;

/// <summary>The worker's inserts wait on a lock past its statement_timeout (SQLSTATE 57014).</summary>
[TestFixture, CancelAfter(150_000)]
public sealed class When_statements_time_out
{
    [Test]
    public async Task Events_wait_in_the_queue_and_are_stored_once_they_fit_in_time(CancellationToken ct)
    {
        await using var db = await OwnDatabase.CreateAsync();
        NpgsqlConnection? holder = null;
        NpgsqlTransaction? lockTx = null;

        var outcome = await FaultDrill.RunAsync(db, "57014",
            breakIt: async () =>
            {
                holder = await db.DataSource.OpenConnectionAsync(ct);
                lockTx = await holder.BeginTransactionAsync(ct);
                await using var lockEvents = new NpgsqlCommand("lock table events in share mode", holder, lockTx);
                await lockEvents.ExecuteNonQueryAsync(ct);
            },
            fixIt: async () =>
            {
                await lockTx!.RollbackAsync(CancellationToken.None);
                await holder!.DisposeAsync();
            }, ct,
            workerConnectionString: db.ConnectionString + ";Options=-c statement_timeout=300");

        FaultDrill.AssertAlerts(outcome, "raise statement_timeout or lower Ingest:Worker:MessageLimit");
    }
}
