using Npgsql;
using NpgsqlTypes;

namespace Ingest.Worker.Persistence;

/// <summary>
/// The transaction log (ingest_transactions): the only writer of its rows. A committed attempt is logged by the last
/// statement of the batch's own transaction (<see cref="Committed"/>, sent in the same round trip as the write it
/// ends), with the failed attempt the database could not record while it was down; a failed attempt is recorded on
/// its own, best effort (<see cref="TryRecordFailureAsync"/>).
/// </summary>
public sealed class TransactionLog(NpgsqlDataSource db)
{
    /// <summary>
    /// The committed row, counting the events this transaction inserted by their <c>xact_id</c> (the top-level
    /// transaction's id, also under the savepoints of <c>insert_events_one_by_one</c>; migration 0102, index events_xact),
    /// and the earlier failed attempt when there is one. Returns the inserted count.
    /// </summary>
    const string LogCommittedAttempt = """
        with earlier_failure as (
            insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, attempt, error)
            select @transaction_id, @worker_host, @failed_started_at, @failed_at, 'failed', @broker_messages, @event_count, @failed_attempt, @failed_error
            where @failed_attempt::int is not null
            on conflict (id, attempt) do nothing
        ),
        inserted as (
            select count(*)::int as count from events where xact_id = pg_current_xact_id()
        )
        insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, inserted, duplicates, quarantined, attempt)
        select @transaction_id, @worker_host, @started_at, clock_timestamp(), 'committed', @broker_messages, @event_count,
               inserted.count, @event_count - inserted.count - @quarantined, @quarantined, @attempt
        from inserted
        returning inserted
        """;

    const string LogFailedAttempt = """
        insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, attempt, error)
        values (@transaction_id, @worker_host, @failed_started_at, @failed_at, 'failed', @broker_messages, @event_count, @failed_attempt, @failed_error)
        on conflict (id, attempt) do nothing
        """;

    /// <summary>The statement that logs <paramref name="attempt"/> as committed, to end the batch of its transaction; it returns the inserted count.</summary>
    public static NpgsqlBatchCommand Committed(TransactionAttempt attempt, int eventCount, int quarantined)
    {
        var cmd = new NpgsqlBatchCommand(LogCommittedAttempt);
        AddAttempt(cmd.Parameters, attempt, eventCount);
        AddFailure(cmd.Parameters, attempt.UnrecordedFailure);
        cmd.Parameters.Add(new NpgsqlParameter<int>("quarantined", quarantined));
        return cmd;
    }

    /// <summary>Records a failed attempt. Best effort: the database may be the thing that failed.</summary>
    public async Task<bool> TryRecordFailureAsync(TransactionAttempt attempt, int eventCount, FailedAttempt failure, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await using var cmd = db.CreateCommand(LogFailedAttempt);
            AddAttempt(cmd.Parameters, attempt, eventCount);
            AddFailure(cmd.Parameters, failure);
            await cmd.ExecuteNonQueryAsync(timeout.Token);
            return true;
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    static void AddAttempt(NpgsqlParameterCollection parameters, TransactionAttempt attempt, int eventCount)
    {
        parameters.Add(new NpgsqlParameter<Guid>("transaction_id", attempt.TransactionId));
        parameters.Add(new NpgsqlParameter<string>("worker_host", attempt.WorkerHost));
        parameters.Add(new NpgsqlParameter<DateTime>("started_at", attempt.StartedAt));
        parameters.Add(new NpgsqlParameter<int>("broker_messages", attempt.BrokerMessages));
        parameters.Add(new NpgsqlParameter<int>("event_count", eventCount));
        parameters.Add(new NpgsqlParameter<int>("attempt", attempt.Attempt));
    }

    static void AddFailure(NpgsqlParameterCollection parameters, FailedAttempt? failure)
    {
        parameters.Add(new NpgsqlParameter("failed_attempt", NpgsqlDbType.Integer) { Value = failure is null ? DBNull.Value : failure.Attempt });
        parameters.Add(new NpgsqlParameter("failed_started_at", NpgsqlDbType.TimestampTz) { Value = failure is null ? DBNull.Value : failure.StartedAt });
        parameters.Add(new NpgsqlParameter("failed_at", NpgsqlDbType.TimestampTz) { Value = failure is null ? DBNull.Value : failure.FailedAt });
        parameters.Add(new NpgsqlParameter("failed_error", NpgsqlDbType.Text) { Value = failure is null ? DBNull.Value : UnsendableText.Printable(failure.Error) });
    }
}
