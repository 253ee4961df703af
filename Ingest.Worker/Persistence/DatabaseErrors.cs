using System.Text.RegularExpressions;
using Ingest.Database;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Sorts the failures of a batch write into the two that the writer sees: the data's fault (<see cref="IsRefusedData"/>:
/// the events that cause it are quarantined, the rest stored) and everything else (<see cref="IsRetried"/>: the
/// database's, the deployment's or the worker's own fault, retried with the batch unacknowledged, with an
/// <see cref="Action"/> for ops). The third outcome, a broker message that cannot be read, never reaches the writer:
/// MassTransit moves it alone to the queue's _error queue when it fails to deserialize.
/// </summary>
public static partial class DatabaseErrors
{
    /// <summary>
    /// Whether a failed batch write is retried: every failure but the worker stopping. What escapes the writer is not
    /// the data's fault (the writer isolates refused events itself), so it is the database's (read-only node, statement
    /// timeout, disk full, outage), the deployment's (revoked grant, missing table) or a bug in the worker; none of it
    /// is fixed by moving the batch to the error queue, and all of it by waiting, with the batch unacknowledged in
    /// RabbitMQ, until ops have done what <see cref="Action"/> says.
    /// </summary>
    public static bool IsRetried(Exception e, CancellationToken stopping) => !stopping.IsCancellationRequested && e is not OperationCanceledException;

    /// <summary>
    /// PostgreSQL refused the data itself: a data exception (class 22: numeric overflow inside jsonb, NUL in text,
    /// date out of range), an integrity constraint (class 23) or a program limit (class 54: an index row too large).
    /// The writer isolates the events that cause it, each in a subtransaction of its own (insert_events_one_by_one).
    /// </summary>
    public static bool IsRefusedData(Exception e) =>
        e is PostgresException { SqlState: ['2', '2', ..] or ['2', '3', ..] or ['5', '4', ..] } && !IsMissingPartition(e);

    /// <summary>
    /// No partition of events holds the time of the insert (stored_at, the database's clock: migration 0105): never the
    /// event's fault, so not quarantined but retried until the partition maintenance has created it.
    /// </summary>
    public static bool IsMissingPartition(Exception e) =>
        e is PostgresException { SqlState: "23514" } pg && pg.MessageText.StartsWith("no partition of relation", StringComparison.Ordinal);

    /// <summary>What ops must do about a failure that is retried, for the transaction log's Action property.</summary>
    public static string Action(Exception e) => e switch
    {
        _ when IsMissingPartition(e) => "no partition of events holds the current time: check the worker's partition maintenance (Ingest:Partitions) in its log",
        PostgresException { SqlState: "25006" } => "the database is read-only: point ConnectionStrings:Postgres at the primary (Target Session Attributes=primary), or reset default_transaction_read_only; the next attempt opens new sessions",
        PostgresException { SqlState: "42501" } => "grant INSERT and SELECT on events, event_keys, quarantined_events and ingest_transactions, and SELECT on privacy_filters and privacy_hash_key (read by the worker's insert), to the worker's role",
        PostgresException { SqlState: "42P01" or "42703" or "42883" } => "the schema is missing or out of date: run `Ingest.Worker migrate`",
        PostgresException { SqlState: "57014" } => "a statement ran past statement_timeout: raise statement_timeout or lower Ingest:Worker:MessageLimit",
        PostgresException { SqlState: "53100" } => "the database server's disk is full: free or add space",
        PostgresException { SqlState: "53200" } => "the database server is out of memory",
        PostgresException { SqlState: "53300" } => "too many connections: raise max_connections or lower the clients' pool sizes",
        PostgresException { SqlState: ['2', '8', ..] } => "check the user and password in ConnectionStrings:Postgres",
        PostgresException { SqlState: "3D000" } => "create the database named in ConnectionStrings:Postgres, or fix the name",
        PostgresException { SqlState: "40001" or "40P01" } => "none: a conflict with another transaction, retried",
        _ when DatabaseAvailability.IsUnavailable(e) => "none if it passes: the database is unreachable or restarting; check PostgreSQL at ConnectionStrings:Postgres",
        PostgresException pg => $"the database refuses every write (SQLSTATE {pg.SqlState}): fix the database; the batch waits in RabbitMQ",
        _ => "a fault in the worker itself: report it with this log event; the batch waits in RabbitMQ and is retried",
    };

    /// <summary>PostgreSQL's message with its SQLSTATE, as stored in quarantined_events.reason and ingest_transactions.error.</summary>
    public static string Describe(Exception e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState}){(pg.Detail is null ? "" : $": {pg.Detail}")}",
        NpgsqlException { InnerException: { } inner } npgsql => $"{npgsql.Message}: {inner.Message}",
        _ => e.Message,
    };

    /// <summary>
    /// <see cref="Describe"/> for the log, without PostgreSQL's Detail: that holds row values ("Failing row contains
    /// (…)", a partition key) whenever the connection string says Include Error Detail. The database keeps it all.
    /// </summary>
    public static string DescribeForLog(Exception e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState})",
        _ => Describe(e),
    };

    /// <summary>
    /// A refused event's reason (<see cref="RefusedEvent.Reason"/>) for the log: the message up to its first double
    /// quote, and the SQLSTATE. The reason as stored, "message (SQLSTATE xxxxx): detail" from insert_events_one_by_one,
    /// can carry the refused value, in the message (PostgreSQL quotes it: <c>invalid input syntax for type json: "…"</c>)
    /// or in the Detail (<c>Token "…" is invalid</c>, <c>Failing row contains (…)</c>); quarantined_events.reason
    /// keeps it all, beside the event itself. PostgreSQL quotes names the same way, so they go too.
    /// </summary>
    public static string ReasonForLog(string reason)
    {
        var state = SqlStateInReason().Match(reason);
        var end = state.Success ? state.Index : reason.Length;
        var quote = reason.IndexOf('"', StringComparison.Ordinal);
        var cut = quote >= 0 && quote < end;
        var message = reason[..(cut ? quote : end)].TrimEnd();
        return $"{message}{(cut ? " \"…\"" : "")}{(state.Success ? $" (SQLSTATE {state.Groups[1].Value})" : "")}";
    }

    [GeneratedRegex(@" ?\(SQLSTATE ([0-9A-Z]{5})\)")]
    private static partial Regex SqlStateInReason();
}
