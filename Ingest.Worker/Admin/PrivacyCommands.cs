using System.CommandLine;
using System.CommandLine.Parsing;
using Ingest.Database.Privacy;
using Npgsql;

namespace Ingest.Worker.Admin;

/// <summary>
/// <c>Ingest.Worker privacy request|status|subject</c>: privacy requests for ops, the same as the API's admin
/// endpoints (<c>POST /v1/privacy/requests</c>…), recorded by <see cref="PrivacyRecords"/> and carried out by a running
/// worker's PrivacyRunner. The key that made a request is named <c>cli</c> in its audit record.
/// </summary>
static class PrivacyCommands
{
    public static Command Create(AdminSettings settings)
    {
        var source = new Argument<string>("source");
        var type = new Argument<string>("type") { HelpName = string.Join('|', PrivacyRequestType.All) };
        type.AcceptOnlyFromAmong(PrivacyRequestType.All);
        var (userIds, anonymousIds) = (SubjectOption("--user-id"), SubjectOption("--anonymous-id"));
        var request = new Command("request", "Request the suppression or erasure of subjects; a running worker carries it out.") { source, type, userIds, anonymousIds };
        request.Validators.Add(r =>
        {
            if (Count(r.GetResult(userIds)) + Count(r.GetResult(anonymousIds)) is 0 or > PrivacyRecords.MaxSubjects)
                r.AddError($"give 1 to {PrivacyRecords.MaxSubjects} subjects, each as --user-id <id> or --anonymous-id <id>");
        });
        request.SetDatabaseAction(settings, async (db, parse, ct) =>
        {
            var (sourceId, requestType, subjects) = (parse.GetRequiredValue(source), parse.GetRequiredValue(type), Subjects(parse, userIds, anonymousIds));
            var created = await PrivacyRecords.CreateAsync(db, sourceId, "cli", requestType, subjects, ct);
            Console.WriteLine($"{created}  {requestType} of {subjects.Count} subject(s) in {sourceId}: pending; a running worker carries it out (privacy status {sourceId} {created})");
            return 0;
        });

        var statusSource = new Argument<string>("source");
        var id = new Argument<Guid>("request-id");
        var status = new Command("status", "A request's status, times and removed counts.") { statusSource, id };
        status.SetDatabaseAction(settings, (db, parse, ct) => Status(db, parse.GetRequiredValue(statusSource), parse.GetValue(id), ct));

        var subjectSource = new Argument<string>("source");
        var userId = new Option<string>("--user-id") { HelpName = "id" };
        var anonymousId = new Option<string>("--anonymous-id") { HelpName = "id" };
        var subject = new Command("subject", "What the source holds of one subject, and whether it is suppressed.") { subjectSource, userId, anonymousId };
        subject.Validators.Add(r =>
        {
            if (Count(r.GetResult(userId)) + Count(r.GetResult(anonymousId)) != 1 || r.Children.Any(c => c is OptionResult { Tokens: [{ Value.Length: 0 }] }))
                r.AddError("give one subject: --user-id <id> or --anonymous-id <id>");
        });
        subject.SetDatabaseAction(settings, async (db, parse, ct) =>
        {
            var one = parse.GetValue(userId) is { } user ? new PrivacySubject(SubjectHash.UserId, user) : new PrivacySubject(SubjectHash.AnonymousId, parse.GetRequiredValue(anonymousId));
            var rows = await PrivacyRecords.CountAsync(db, parse.GetRequiredValue(subjectSource), one, ct);
            Console.WriteLine($"{rows.Events} events, {rows.Quarantined} quarantined events; {(rows.Suppressed ? "suppressed" : "not suppressed")} (dead letters: Ingest.Worker dead-letters list, or GET /v1/privacy/subjects)");
            return 0;
        });

        return new Command("privacy", "Privacy requests, as the API's admin endpoints make them.") { request, status, subject };
    }

    /// <summary>An option given once per subject (<c>--user-id a --user-id b</c>), each time with one id that is not empty.</summary>
    static Option<string[]> SubjectOption(string name)
    {
        var option = new Option<string[]>(name) { HelpName = "id" };
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count != r.IdentifierTokenCount || r.Tokens.Any(t => t.Value.Length == 0))
                r.AddError($"{name} takes one id each time it is given");
        });
        return option;
    }

    /// <summary>The ids given, read from the tokens: a validator runs before the values are converted, and may not convert them.</summary>
    static int Count(OptionResult? given) => given?.Tokens.Count ?? 0;

    static List<PrivacySubject> Subjects(ParseResult parse, Option<string[]> userIds, Option<string[]> anonymousIds) =>
    [
        .. (parse.GetValue(userIds) ?? []).Select(id => new PrivacySubject(SubjectHash.UserId, id)),
        .. (parse.GetValue(anonymousIds) ?? []).Select(id => new PrivacySubject(SubjectHash.AnonymousId, id)),
    ];

    static async Task<int> Status(NpgsqlDataSource db, string source, Guid id, CancellationToken ct)
    {
        if (await PrivacyRecords.GetAsync(db, source, id, ct) is not { } r)
            return await AdminCommands.Fail($"no privacy request {id} in source {source}");
        Console.WriteLine($"{r.Id}  {r.Type}  {r.Status}{(r.Reason is null ? "" : $" ({r.Reason})")}  {r.Subjects} subject(s)  by key {r.KeyPrefix}");
        Console.WriteLine($"requested {r.RequestedAt:u}  started {r.StartedAt?.ToString("u") ?? "-"}  finished {r.FinishedAt?.ToString("u") ?? "-"}");
        Console.WriteLine($"removed: {r.RemovedEvents} events, {r.RemovedQuarantined} quarantined events, {r.RemovedDeadLetters} dead-lettered events");
        return 0;
    }
}
