namespace Ingest.Api.ReadSide;

/// <summary>
/// The read side's own NpgsqlDataSource, a keyed service: ConnectionStrings:PostgresRead (a read replica), or the
/// primary's data source itself when that is unset. A read endpoint asks for it with
/// <c>[FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db</c>; what must read the primary takes the plain one:
/// <list type="bullet">
/// <item>the quarantine's replay, which writes (replayed_at) in the transaction that holds the row while the broker confirms;</item>
/// <item>the live tail (<see cref="LiveTailReader"/>, <see cref="LiveTailEndpoint"/>): LISTEN is refused on a standby
/// ("cannot execute LISTEN during recovery") and notifications are not replicated; and a reconnecting client's
/// catch-up reads the rows that the feed's snapshot sees, which a lagging replica may not hold yet, so both must read
/// the one server whose snapshots they compare;</item>
/// <item>the keys (<see cref="Keys.KeyStore"/>): a revoked key must stop working within RefreshInterval, and a replica
/// that stopped replaying would serve it indefinitely; the load is one small query per instance every 30 s.</item>
/// </list>
/// </summary>
public static class ReadDatabase
{
    public const string Key = "read";
    public const string ConnectionStringName = "PostgresRead";
}
