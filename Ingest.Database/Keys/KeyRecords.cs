using Dapper;
using Npgsql;

namespace Ingest.Database.Keys;

/// <summary>
/// Sources and their keys as rows: what the worker's command line adds, creates, revokes and lists. A key is stored
/// as its <see cref="ApiKey.Hash"/> and <see cref="ApiKey.Prefix"/>; the API loads the active ones (Ingest.Api/Keys/KeyStore).
/// </summary>
public static class KeyRecords
{
    const string UpsertSource = """
        insert into sources (id, name, allowed_origins) values (@Id, @Name, @Origins)
        on conflict (id) do update set name = excluded.name, allowed_origins = excluded.allowed_origins
        """;

    const string UpdateIpPolicy = "update sources set ip_policy = @Policy where id = @Id";

    const string InsertKey = "insert into api_keys (key_hash, key_prefix, source_id, scope) values (@Hash, @Prefix, @Source, @Scope)";
    const string RevokeKeyByPrefix = "update api_keys set revoked_at = now() where key_prefix = @Prefix and revoked_at is null";
    const string SelectKeysOfSource = """
        select key_prefix as Prefix, scope as Scope, created_at as Created, revoked_at as Revoked
        from api_keys where source_id = @Source order by created_at
        """;

    public sealed record KeyRow(string Prefix, string Scope, DateTime Created, DateTime? Revoked);

    /// <summary>Adds the source, or renames it and replaces its allowed origins.</summary>
    public static async Task AddSourceAsync(NpgsqlDataSource db, string id, string name, string[] origins, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(UpsertSource, new { Id = id, Name = name, Origins = origins }, cancellationToken: ct));
    }

    /// <summary>What the source stores of a client's IP: keep, anonymize or drop (the column's check refuses anything else).</summary>
    /// <returns>Whether the source exists.</returns>
    public static async Task<bool> SetIpPolicyAsync(NpgsqlDataSource db, string id, string policy, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(UpdateIpPolicy, new { Id = id, Policy = policy }, cancellationToken: ct)) == 1;
    }

    /// <returns>The new key, in full: the only time it exists outside the caller's hands.</returns>
    public static async Task<string> CreateKeyAsync(NpgsqlDataSource db, string source, string scope, CancellationToken ct)
    {
        var key = ApiKey.New(scope);
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(InsertKey, new { Hash = ApiKey.Hash(key), Prefix = ApiKey.Prefix(key), Source = source, Scope = scope }, cancellationToken: ct));
        return key;
    }

    /// <returns>How many active keys start with the prefix (of the given key, or the prefix itself) and are now revoked.</returns>
    public static async Task<int> RevokeAsync(NpgsqlDataSource db, string keyOrPrefix, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(RevokeKeyByPrefix, new { Prefix = ApiKey.Prefix(keyOrPrefix) }, cancellationToken: ct));
    }

    public static async Task<IReadOnlyList<KeyRow>> ListAsync(NpgsqlDataSource db, string source, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<KeyRow>(new CommandDefinition(SelectKeysOfSource, new { Source = source }, cancellationToken: ct))).AsList();
    }
}
