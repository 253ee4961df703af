using System.CommandLine;
using Ingest.Database.Keys;
using Npgsql;

namespace Ingest.Worker.Admin;

/// <summary><c>Ingest.Worker source add|set</c>: the sources keys belong to, their allowed origins and client IP policy.</summary>
static class SourceCommands
{
    static readonly string[] IpPolicies = ["keep", "anonymize", "drop"];

    public static Command Create(AdminSettings settings)
    {
        var id = new Argument<string>("id");
        var name = new Argument<string?>("name") { Arity = ArgumentArity.ZeroOrOne, Description = "Shown to people; the id when not given." };
        name.Validators.Add(r =>
        {
            // A name is never an option: what looks like one is a misspelt option or a bad --ip.
            if (r.Tokens is [{ Value: var value }] && value.StartsWith("--", StringComparison.Ordinal))
                r.AddError($"{value} is not an option of source add");
        });
        var origins = new Option<string>("--origins") { HelpName = "https://a.example,https://b.example", Description = "The browser origins allowed to send; none for a server-side source." };
        var addIp = IpOption(required: false);
        var add = new Command("add", "Add a source, or rename it and replace its origins.") { id, name, origins, addIp };
        add.SetDatabaseAction(settings, (db, parse, ct) => AddSource(db, parse.GetRequiredValue(id), parse.GetValue(name) ?? parse.GetRequiredValue(id),
            parse.GetValue(origins)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
            parse.GetValue(addIp), ct));

        var setId = new Argument<string>("id");
        var setIp = IpOption(required: true);
        var set = new Command("set", "Change a source's client IP policy; the API takes it up at its next key refresh.") { setId, setIp };
        set.SetDatabaseAction(settings, (db, parse, ct) => SetIpPolicy(db, parse.GetRequiredValue(setId), parse.GetRequiredValue(setIp), ct));

        return new Command("source", "Sources: what keys belong to and events are stored under.") { add, set };
    }

    static Option<string> IpOption(bool required)
    {
        var ip = new Option<string>("--ip") { Required = required, HelpName = string.Join('|', IpPolicies), Description = "What the source stores of a client's IP address." };
        ip.AcceptOnlyFromAmong(IpPolicies);
        return ip;
    }

    static async Task<int> AddSource(NpgsqlDataSource db, string id, string name, string[] origins, string? ipPolicy, CancellationToken ct)
    {
        await KeyRecords.AddSourceAsync(db, id, name, origins, ct);
        // Left as it was (anonymize for a new source) unless asked: re-adding a source to rename it must not change what it stores.
        if (ipPolicy is not null) await KeyRecords.SetIpPolicyAsync(db, id, ipPolicy, ct);
        Console.WriteLine($"source {id} ({name}); allowed origins: {(origins.Length == 0 ? "none (server-side only)" : string.Join(", ", origins))}"
            + (ipPolicy is null ? "" : $"; client IP: {ipPolicy}"));
        return 0;
    }

    static async Task<int> SetIpPolicy(NpgsqlDataSource db, string id, string policy, CancellationToken ct)
    {
        if (!await KeyRecords.SetIpPolicyAsync(db, id, policy, ct)) return await AdminCommands.Fail($"no source {id}");
        // The API takes it up with the keys, at its next refresh (Ingest:Keys:RefreshInterval).
        Console.WriteLine($"source {id}; client IP: {policy}");
        return 0;
    }
}
