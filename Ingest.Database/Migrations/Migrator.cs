using System.Reflection;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Database.Migrations;

/// <summary>
/// Applies the versioned SQL files embedded in this assembly (Migrations/NNNN_name.sql) in order, each in its
/// own transaction, recorded in schema_migrations. An advisory lock makes workers that start together take
/// turns: the first applies, the others find nothing left to do.
/// </summary>
public sealed partial class Migrator(NpgsqlDataSource db, ILogger<Migrator> log)
{
    const long MigrationLock = 0x696e_6765_7374; // "ingest"

    const string CreateHistoryTable = """
        create table if not exists schema_migrations (
            version int primary key,
            name text not null,
            applied_at timestamptz not null default now())
        """;

    const string SelectAppliedVersions = "select version from schema_migrations";
    const string RecordMigration = "insert into schema_migrations (version, name) values (@Version, @Name)";

    public sealed record Migration(int Version, string Name, string Sql);

    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    /// <returns>The number of migrations this call applied.</returns>
    public Task<int> ApplyAsync(CancellationToken ct) => ApplyAsync(int.MaxValue, ct);

    /// <summary>The migrations up to <paramref name="lastVersion"/> only: a test's database as an older release left it.</summary>
    /// <returns>The number of migrations this call applied.</returns>
    public async Task<int> ApplyAsync(int lastVersion, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@MigrationLock)", new { MigrationLock }, cancellationToken: ct));
        try
        {
            await conn.ExecuteAsync(new CommandDefinition(CreateHistoryTable, cancellationToken: ct));
            var applied = (await conn.QueryAsync<int>(new CommandDefinition(SelectAppliedVersions, cancellationToken: ct))).ToHashSet();
            var count = 0;
            foreach (var migration in Embedded.Where(m => m.Version <= lastVersion && !applied.Contains(m.Version)))
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                await conn.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: tx, cancellationToken: ct));
                await conn.ExecuteAsync(new CommandDefinition(RecordMigration, migration, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                log.LogInformation("Applied migration {MigrationVersion} {MigrationName}", migration.Version, migration.Name);
                count++;
            }
            return count;
        }
        finally
        {
            await conn.ExecuteAsync("select pg_advisory_unlock(@MigrationLock)", new { MigrationLock });
        }
    }

    static List<Migration> LoadEmbedded()
    {
        var assembly = typeof(Migrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Select(resource => (resource, match: FileName().Match(resource)))
            .Where(x => x.match.Success)
            .Select(x => new Migration(int.Parse(x.match.Groups["version"].Value), x.match.Groups["name"].Value, Read(assembly, x.resource)))
            .OrderBy(m => m.Version)
            .ToList();
    }

    static string Read(Assembly assembly, string resource)
    {
        using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"Migrations\.(?<version>\d{4})_(?<name>\w+)\.sql$")]
    private static partial Regex FileName();
}
