using Ingest.Database.Privacy;
using Npgsql;

namespace Ingest.Worker.Admin;

/// <summary>
/// <c>Ingest.Worker privacy request|status|subject</c>: privacy requests for ops, the same as the API's admin
/// endpoints (<c>POST /v1/privacy/requests</c>…), recorded by <see cref="PrivacyRecords"/> and carried out by a running
/// worker's PrivacyRunner. The key that made a request is named <c>cli</c> in its audit record.
/// </summary>
public static class PrivacyCommands
{
    public const string Usage = """
               Ingest.Worker privacy request <source> suppress|unsuppress|delete|suppress_with_delete (--user-id <id> | --anonymous-id <id>)...
               Ingest.Worker privacy status <source> <request-id>
               Ingest.Worker privacy subject <source> --user-id <id> | --anonymous-id <id>
        """;

    public static async Task<int> RunAsync(NpgsqlDataSource db, string[] args, Func<string, Task<int>> fail)
    {
        switch (args)
        {
            case ["request", var source, var type, .. var rest] when PrivacyRequestType.All.Contains(type):
                if (Subjects(rest) is not { Count: > 0 and <= PrivacyRecords.MaxSubjects } subjects)
                    return await fail($"give 1 to {PrivacyRecords.MaxSubjects} subjects, each as --user-id <id> or --anonymous-id <id>\nusage:\n{Usage}");
                var created = await PrivacyRecords.CreateAsync(db, source, "cli", type, subjects, CancellationToken.None);
                Console.WriteLine($"{created}  {type} of {subjects.Count} subject(s) in {source}: pending; a running worker carries it out (privacy status {source} {created})");
                return 0;
            case ["status", var source, var text] when Guid.TryParse(text, out var id):
                if (await PrivacyRecords.GetAsync(db, source, id, CancellationToken.None) is not { } r)
                    return await fail($"no privacy request {id} in source {source}");
                Console.WriteLine($"{r.Id}  {r.Type}  {r.Status}{(r.Reason is null ? "" : $" ({r.Reason})")}  {r.Subjects} subject(s)  by key {r.KeyPrefix}");
                Console.WriteLine($"requested {r.RequestedAt:u}  started {r.StartedAt?.ToString("u") ?? "-"}  finished {r.FinishedAt?.ToString("u") ?? "-"}");
                Console.WriteLine($"removed: {r.RemovedEvents} events, {r.RemovedQuarantined} quarantined events, {r.RemovedDeadLetters} dead-lettered events");
                return 0;
            case ["subject", var source, .. var rest] when Subjects(rest) is [var subject]:
                var rows = await PrivacyRecords.CountAsync(db, source, subject, CancellationToken.None);
                Console.WriteLine($"{rows.Events} events, {rows.Quarantined} quarantined events; {(rows.Suppressed ? "suppressed" : "not suppressed")} (dead letters: Ingest.Worker dead-letters list, or GET /v1/privacy/subjects)");
                return 0;
            default:
                return await fail("usage:\n" + Usage);
        }
    }

    /// <summary>The subjects of <c>--user-id a --anonymous-id b …</c>; null when an argument is anything else.</summary>
    static List<PrivacySubject>? Subjects(string[] args)
    {
        var subjects = new List<PrivacySubject>();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length || args[i + 1].Length == 0) return null;
            var kind = args[i] switch { "--user-id" => SubjectHash.UserId, "--anonymous-id" => SubjectHash.AnonymousId, _ => null };
            if (kind is null) return null;
            subjects.Add(new PrivacySubject(kind, args[i + 1]));
        }
        return subjects;
    }
}
