namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// A fault that lives in the database's sessions (a setting applied to new sessions, then every session ended, as a
/// failover or a restart does) is fixed by a DBA who resets the setting and ends no session. The worker's pooled
/// sessions were opened under the fault; the fix must be taken up at its next attempt, not when Npgsql prunes them.
/// The worker retries at most <see cref="RetryMaxDelay"/> apart; 2 s more cover the commit and the delivery of the
/// events sent after the fix on this shared two-core machine.
/// </summary>
[TestFixture, CancelAfter(150_000)]
public sealed class When_a_session_setting_is_fixed_without_ending_sessions
{
    static readonly TimeSpan RetryMaxDelay = TimeSpan.FromSeconds(3);
    static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    [Test]
    public async Task A_database_made_read_only_is_written_at_the_next_attempt_after_the_reset(CancellationToken ct)
    {
        await using var db = await OwnDatabase.CreateAsync();
        var outcome = await FaultDrill.RunAsync(db, "25006",
            breakIt: async () =>
            {
                await OwnDatabase.ExecuteOnServerAsync($"alter database {db.Name} set default_transaction_read_only = on");
                await db.TerminateConnectionsAsync();
            },
            fixIt: () => OwnDatabase.ExecuteOnServerAsync($"alter database {db.Name} reset default_transaction_read_only"),
            ct, retryMaxDelay: RetryMaxDelay);

        AssertTakenUp(outcome);
    }

    [Test]
    public async Task A_statement_timeout_of_1_ms_is_left_behind_at_the_next_attempt_after_the_reset(CancellationToken ct)
    {
        await using var db = await OwnDatabase.CreateAsync();
        var outcome = await FaultDrill.RunAsync(db, "57014",
            breakIt: async () =>
            {
                await OwnDatabase.ExecuteOnServerAsync($"alter database {db.Name} set statement_timeout = '1ms'");
                await db.TerminateConnectionsAsync();
            },
            fixIt: () => OwnDatabase.ExecuteOnServerAsync($"alter database {db.Name} reset statement_timeout"),
            ct, retryMaxDelay: RetryMaxDelay);

        AssertTakenUp(outcome);
    }

    static void AssertTakenUp(FaultOutcome outcome)
    {
        TestContext.Out.WriteLine($"fix to first commit {outcome.FixToFirstCommit.TotalMilliseconds:F0} ms, to every event stored {outcome.FixToAllStored.TotalMilliseconds:F0} ms");
        Assert.That(outcome.FixToAllStored, Is.LessThan(RetryMaxDelay + Slack),
            $"every event stored within one RetryMaxDelay ({RetryMaxDelay.TotalSeconds} s) of the fix; the first commit came {outcome.FixToFirstCommit.TotalMilliseconds:F0} ms after it");
        Assert.That(outcome.Transactions, Has.None.Matches<TransactionRow>(r => r.Quarantined > 0), "nothing quarantined");
    }
}
