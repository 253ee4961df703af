using System.Net.Sockets;
using Npgsql;

namespace Ingest.Database;

/// <summary>
/// The one rule both hosts use for "PostgreSQL is unavailable, try again later": the worker retries its batch, the
/// API answers 503 with Retry-After, the key store keeps its last keys, the migrations wait at start. And the one probe
/// that asks whether it answers again.
/// </summary>
public static class DatabaseAvailability
{
    /// <summary>Asks PostgreSQL to answer and nothing more: one round trip that reads no table and takes no lock.</summary>
    const string Probe = "select 1";

    /// <summary>Asks PostgreSQL to answer, on a session of the pool; throws as the database does when it cannot (<see cref="IsUnavailable"/>).</summary>
    public static async Task ProbeAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(Probe);
        await cmd.ExecuteScalarAsync(ct);
    }

    /// <summary>
    /// The same on a session already open: one that waits for notifications (a silent network failure shows only when
    /// something is sent), or one a response will be read on (a failure before the response starts can still be a 503).
    /// </summary>
    public static async Task ProbeAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(Probe, conn);
        await cmd.ExecuteScalarAsync(ct);
    }

    /// <summary>Whether PostgreSQL answers the probe now, for a host that waits until it does (the worker's paused consumer, a health check).</summary>
    public static async Task<bool> AnswersAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        try
        {
            await ProbeAsync(db, ct);
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

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
