using Dapper;
using Ingest.Database.Keys;

namespace Ingest.Tests.Integration.Api;

/// <summary>Sources and keys written straight to the test database, as the admin command does.</summary>
public static class TestSources
{
    public static async Task<(string SourceId, string WriteKey, string ReadKey)> CreateAsync(string[]? origins = null)
    {
        var source = $"test-{Guid.NewGuid():N}"[..20];
        var write = ApiKey.New("write");
        var read = ApiKey.New("read");
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        await conn.ExecuteAsync("insert into sources (id, name, allowed_origins) values (@source, @source, @origins)", new { source, origins = origins ?? [] });
        await conn.ExecuteAsync("insert into api_keys (key_hash, key_prefix, source_id, scope) values (@Hash, @Prefix, @source, @Scope)",
            new[] { (Key: write, Scope: "write"), (Key: read, Scope: "read") }.Select(k => new { Hash = ApiKey.Hash(k.Key), Prefix = k.Key[..10], source, k.Scope }));
        return (source, write, read);
    }
}
