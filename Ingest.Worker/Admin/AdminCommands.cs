using Ingest.Database.Keys;
using Ingest.Database.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Worker.Admin;

/// <summary>
/// The worker's command line for operators: apply migrations, add sources, create and revoke keys, inspect and
/// replay the dead-letter queue (<see cref="DeadLetterCommands"/>), make privacy requests (<see cref="PrivacyCommands"/>).
/// A key is printed once, when it is created; only its SHA-256 hash is stored (<see cref="KeyRecords"/>).
/// </summary>
public static class AdminCommands
{
    const string Usage = """
        usage: Ingest.Worker migrate
               Ingest.Worker source add <id> [<name>] [--origins https://a.example,https://b.example] [--ip keep|anonymize|drop]
               Ingest.Worker source set <id> --ip keep|anonymize|drop
               Ingest.Worker key create <source> write|read|admin
               Ingest.Worker key revoke <key-prefix>
               Ingest.Worker key list <source>
        """ + "\n" + DeadLetterCommands.Usage + "\n" + PrivacyCommands.Usage + "\n" + """
        The database is ConnectionStrings__Postgres; the broker Ingest__Broker__Host, __Port, __Queue… (dead-letters).
        """;

    static readonly string[] Commands = ["migrate", "source", "key", "dead-letters", "privacy"];

    public static bool Recognizes(string[] args) => args.Length > 0 && Commands.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args[0] == "dead-letters") return await DeadLetterCommands.RunAsync(args[1..], Fail);
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
        if (string.IsNullOrEmpty(connectionString))
        {
            await Console.Error.WriteLineAsync("ConnectionStrings__Postgres is not set.");
            return 2;
        }
        await using var db = NpgsqlDataSource.Create(connectionString);
        try
        {
            return args switch
            {
                ["migrate"] => await Migrate(db),
                ["source", "add", var id, .. var rest] => await AddSource(db, id, rest),
                ["source", "set", var id, "--ip", "keep" or "anonymize" or "drop"] => await SetIpPolicy(db, id, args[4]),
                ["key", "create", var source, "write" or "read" or "admin"] => await CreateKey(db, source, args[3]),
                ["privacy", .. var rest] => await PrivacyCommands.RunAsync(db, rest, Fail),
                ["key", "revoke", var prefix] => await RevokeKey(db, prefix),
                ["key", "list", var source] => await ListKeys(db, source),
                _ => await Fail(Usage),
            };
        }
        catch (PostgresException e)
        {
            return await Fail($"{e.MessageText}{(e.Detail is null ? "" : $" ({e.Detail})")}");
        }
    }

    static async Task<int> Migrate(NpgsqlDataSource db)
    {
        var applied = await new Migrator(db, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        Console.WriteLine($"applied {applied} migration(s); schema at version {Migrator.Embedded[^1].Version}");
        return 0;
    }

    static async Task<int> AddSource(NpgsqlDataSource db, string id, string[] rest)
    {
        var origins = Array.Empty<string>();
        var name = id;
        string? ipPolicy = null;
        for (var i = 0; i < rest.Length; i++)
        {
            if (rest[i] == "--origins" && i + 1 < rest.Length) origins = rest[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            else if (rest[i] == "--ip" && i + 1 < rest.Length && rest[i + 1] is "keep" or "anonymize" or "drop") ipPolicy = rest[++i];
            else if (rest[i].StartsWith("--", StringComparison.Ordinal)) return await Fail(Usage); // not a name: a misspelt option or a bad --ip
            else name = rest[i];
        }
        await KeyRecords.AddSourceAsync(db, id, name, origins, CancellationToken.None);
        // Left as it was (anonymize for a new source) unless asked: re-adding a source to rename it must not change what it stores.
        if (ipPolicy is not null) await KeyRecords.SetIpPolicyAsync(db, id, ipPolicy, CancellationToken.None);
        Console.WriteLine($"source {id} ({name}); allowed origins: {(origins.Length == 0 ? "none (server-side only)" : string.Join(", ", origins))}"
            + (ipPolicy is null ? "" : $"; client IP: {ipPolicy}"));
        return 0;
    }

    static async Task<int> SetIpPolicy(NpgsqlDataSource db, string id, string policy)
    {
        if (!await KeyRecords.SetIpPolicyAsync(db, id, policy, CancellationToken.None)) return await Fail($"no source {id}");
        // The API takes it up with the keys, at its next refresh (Ingest:Keys:RefreshInterval).
        Console.WriteLine($"source {id}; client IP: {policy}");
        return 0;
    }

    static async Task<int> CreateKey(NpgsqlDataSource db, string source, string scope)
    {
        Console.WriteLine(await KeyRecords.CreateKeyAsync(db, source, scope, CancellationToken.None));
        return 0;
    }

    static async Task<int> RevokeKey(NpgsqlDataSource db, string prefix)
    {
        var revoked = await KeyRecords.RevokeAsync(db, prefix, CancellationToken.None);
        if (revoked == 0) return await Fail($"no active key starts with {prefix}");
        Console.WriteLine($"revoked {revoked} key(s)");
        return 0;
    }

    static async Task<int> ListKeys(NpgsqlDataSource db, string source)
    {
        foreach (var k in await KeyRecords.ListAsync(db, source, CancellationToken.None))
            Console.WriteLine($"{k.Prefix}…  {k.Scope,-5}  created {k.Created:u}{(k.Revoked is { } r ? $"  revoked {r:u}" : "")}");
        return 0;
    }

    static async Task<int> Fail(string message)
    {
        await Console.Error.WriteLineAsync(message);
        return 2;
    }
}
