using System.CommandLine;
using Ingest.Database.Keys;
using Npgsql;

namespace Ingest.Worker.Admin;

/// <summary>
/// <c>Ingest.Worker key create|revoke|list</c>. A key is printed once, alone on its line, when it is created (deploy/run.sh
/// and the tests read it so); only its SHA-256 hash is stored (<see cref="KeyRecords"/>).
/// </summary>
static class KeyCommands
{
    public static Command Create(AdminSettings settings)
    {
        var source = new Argument<string>("source");
        var scope = new Argument<string>("scope") { HelpName = "write|read|admin", Description = "write sends events, read queries them, admin makes privacy requests." };
        scope.AcceptOnlyFromAmong("write", "read", "admin");
        var create = new Command("create", "Create a key and print it, once.") { source, scope };
        create.SetDatabaseAction(settings, async (db, parse, ct) =>
        {
            Console.WriteLine(await KeyRecords.CreateKeyAsync(db, parse.GetRequiredValue(source), parse.GetRequiredValue(scope), ct));
            return 0;
        });

        var prefix = new Argument<string>("key-prefix") { Description = "The first characters of the key, as key list shows them." };
        var revoke = new Command("revoke", "Revoke the active keys that start with the prefix.") { prefix };
        revoke.SetDatabaseAction(settings, (db, parse, ct) => Revoke(db, parse.GetRequiredValue(prefix), ct));

        var listed = new Argument<string>("source");
        var list = new Command("list", "List a source's keys by prefix, revoked ones too.") { listed };
        list.SetDatabaseAction(settings, (db, parse, ct) => List(db, parse.GetRequiredValue(listed), ct));

        return new Command("key", "API keys of a source.") { create, revoke, list };
    }

    static async Task<int> Revoke(NpgsqlDataSource db, string prefix, CancellationToken ct)
    {
        var revoked = await KeyRecords.RevokeAsync(db, prefix, ct);
        if (revoked == 0) return await AdminCommands.Fail($"no active key starts with {prefix}");
        Console.WriteLine($"revoked {revoked} key(s)");
        return 0;
    }

    static async Task<int> List(NpgsqlDataSource db, string source, CancellationToken ct)
    {
        foreach (var k in await KeyRecords.ListAsync(db, source, ct))
            Console.WriteLine($"{k.Prefix}…  {k.Scope,-5}  created {k.Created:u}{(k.Revoked is { } r ? $"  revoked {r:u}" : "")}");
        return 0;
    }
}
