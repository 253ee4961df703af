using System.Net.Sockets;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>Sorts database failures into the ones worth retrying and the ones a single event causes.</summary>
public static class DatabaseErrors
{
    /// <summary>
    /// The database is unreachable, restarting, overloaded or lost a race (connection refused or reset, admin
    /// shutdown, too many connections, deadlock, serialization failure…), or it refuses this worker's connection
    /// (class 28: bad credentials; 3D000: no such database): retrying later can succeed, and none of it is the
    /// batch's fault. Retrying a refused connection, rather than failing the batch, keeps a misconfigured deploy
    /// from draining the whole queue into the error queue.
    /// </summary>
    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState is ['0', '8', ..] or ['5', '7', 'P', ..] or ['2', '8', ..] or "3D000",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
        SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// PostgreSQL refused the data itself: a data exception (class 22: numeric overflow inside jsonb, NUL in text,
    /// date out of range), an integrity constraint (class 23) or a program limit (class 54: an index row too large).
    /// Splitting the batch isolates the events that cause it.
    /// </summary>
    public static bool IsRefusedData(Exception e) =>
        e is PostgresException { SqlState: ['2', '2', ..] or ['2', '3', ..] or ['5', '4', ..] };

    /// <summary>PostgreSQL's message with its SQLSTATE, as stored in quarantined_events.reason and ingest_transactions.error.</summary>
    public static string Describe(Exception e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState}){(pg.Detail is null ? "" : $": {pg.Detail}")}",
        NpgsqlException { InnerException: { } inner } npgsql => $"{npgsql.Message}: {inner.Message}",
        _ => e.Message,
    };
}
