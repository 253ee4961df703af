using System.Net.Sockets;
using Npgsql;

namespace Ingest.Database;

/// <summary>
/// The one rule both hosts use for "PostgreSQL is unavailable, try again later": the worker retries its batch, the
/// API answers 503 with Retry-After, the key store keeps its last keys, the migrations wait at start.
/// </summary>
public static class DatabaseAvailability
{
    /// <summary>
    /// The database is unreachable, restarting, overloaded or lost a race (connection refused or reset, admin
    /// shutdown, too many connections, deadlock, serialization failure…), or it refuses this host's connection
    /// (class 28: bad credentials; 3D000: no such database): retrying later can succeed, and none of it is the
    /// caller's fault. Counting a refused connection as unavailable keeps a misconfigured deploy from draining the
    /// whole queue into the error queue, and tells an API client to come back rather than that it erred.
    /// </summary>
    public static bool IsUnavailable(Exception e) => e switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState is ['0', '8', ..] or ['5', '7', 'P', ..] or ['2', '8', ..] or "3D000",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
        SocketException or TimeoutException => true,
        _ => false,
    };
}
