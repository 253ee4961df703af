using System.Globalization;
using System.Text.Json;
using Ingest.Api.Keys;
using Ingest.Api.ReadSide;
using Ingest.Api.Tracking;
using Ingest.Database.Privacy;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Ingest.Broker.DeadLetters;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Api.Privacy;

/// <summary>
/// Privacy requests under an admin key (a write or read key is refused with 403), always for the key's own source:
/// record one (carried out by a worker's PrivacyRunner), follow it to its receipt, and ask what the stores hold of a
/// subject now. The primary database, not a replica: a receipt or a count read from a lagging replica could show an
/// erased subject's rows.
/// </summary>
public static class PrivacyApi
{
    public static IEndpointRouteBuilder MapPrivacy(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/privacy").WithTags("Privacy")
            .RequireAuthorization(KeyAuthentication.Admin)
            .AddEndpointFilter<DatabaseUnavailableFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/requests", CreateAsync).WithName("createPrivacyRequest");
        group.MapGet("/requests", ListAsync).WithName("listPrivacyRequests");
        group.MapGet("/requests/{id}", GetAsync).WithName("getPrivacyRequest");
        group.MapGet("/subjects", SubjectAsync).WithName("getPrivacySubject");
        return app;
    }

    public sealed record Created(Guid Id, string Status);

    public sealed record Removed(long Events, long QuarantinedEvents, long DeadLetters);

    public sealed record RequestView(Guid Id, string Type, string Status, string? Reason, int Subjects, string Key,
        DateTime RequestedAt, DateTime? StartedAt, DateTime? FinishedAt, Removed Removed);

    public sealed record RequestList(IReadOnlyList<RequestView> Requests, long SuppressedEvents);

    public sealed record SubjectView(long Events, long QuarantinedEvents, long? DeadLetters, bool Suppressed);

    static async Task<Results<Accepted<Created>, ValidationProblem>> CreateAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            return Invalid("", $"The body is not JSON: {e.Message}");
        }
        using var owned = document;
        var body = document.RootElement;
        if (body.ValueKind != JsonValueKind.Object) return Invalid("", "The body must be a JSON object with type and subjects.");
        if (!body.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String
            || !PrivacyRequestType.All.Contains(typeElement.GetString()))
            return Invalid("type", $"Must be one of {string.Join(", ", PrivacyRequestType.All)}.");
        if (!body.TryGetProperty("subjects", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            return Invalid("subjects", "Must be a non-empty array of {\"userId\": …} or {\"anonymousId\": …}.");
        if (list.GetArrayLength() > PrivacyRecords.MaxSubjects)
            return Invalid("subjects", $"At most {PrivacyRecords.MaxSubjects} subjects a request; this one has {list.GetArrayLength()}.");
        var subjects = new List<PrivacySubject>(list.GetArrayLength());
        var errors = new Dictionary<string, string[]>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var (subject, error) = ReadSubject(item);
            if (subject is not null) subjects.Add(subject);
            else errors[$"subjects[{index}]"] = [error!];
            index++;
        }
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, detail: "No request was recorded.");
        var id = await PrivacyRecords.CreateAsync(db, http.User.SourceId(), http.User.KeyPrefix(), typeElement.GetString()!, subjects, ct);
        return TypedResults.Accepted($"/v1/privacy/requests/{id}", new Created(id, "pending"));
    }

    /// <summary>One subject: an object with exactly one of userId and anonymousId, a string of 1 to 255 characters.</summary>
    static (PrivacySubject? Subject, string? Error) ReadSubject(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object) return (null, "Must be an object with userId or anonymousId.");
        var hasUser = item.TryGetProperty(SubjectHash.UserId, out var user);
        var hasAnonymous = item.TryGetProperty(SubjectHash.AnonymousId, out var anonymous);
        if (hasUser == hasAnonymous) return (null, "Must have exactly one of userId and anonymousId.");
        var (kind, value) = hasUser ? (SubjectHash.UserId, user) : (SubjectHash.AnonymousId, anonymous);
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 and <= SegmentMessage.MaxIdLength } id)
            return (null, $"{kind} must be a string of 1 to {SegmentMessage.MaxIdLength} characters.");
        return (new PrivacySubject(kind, id), null);
    }

    static async Task<Results<Ok<RequestView>, NotFound<ProblemDetails>>> GetAsync(string id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var requestId) || await PrivacyRecords.GetAsync(db, http.User.SourceId(), requestId, ct) is not { } request)
            return TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "No such privacy request", Detail = $"No privacy request {id} in this source." });
        return TypedResults.Ok(View(request));
    }

    static async Task<Ok<RequestList>> ListAsync(HttpContext http, NpgsqlDataSource db, SuppressionList suppressions, CancellationToken ct)
    {
        var source = http.User.SourceId();
        var requests = await PrivacyRecords.RecentAsync(db, source, 100, ct);
        return TypedResults.Ok(new RequestList(requests.Select(View).ToList(), suppressions.SuppressedSince(source)));
    }

    /// <summary>What the stores hold of one subject now; DeadLetters null when the broker could not be asked.</summary>
    static async Task<Results<Ok<SubjectView>, ValidationProblem>> SubjectAsync(HttpContext http, NpgsqlDataSource db, IOptions<BrokerOptions> broker,
        ILogger<SuppressionList> log, CancellationToken ct)
    {
        var query = http.Request.Query;
        var (hasUser, hasAnonymous) = (query.ContainsKey(SubjectHash.UserId), query.ContainsKey(SubjectHash.AnonymousId));
        if (hasUser == hasAnonymous) return Invalid("userId", "Give exactly one of ?userId= and ?anonymousId=.");
        var kind = hasUser ? SubjectHash.UserId : SubjectHash.AnonymousId;
        if (query[kind].ToString() is not { Length: > 0 and <= SegmentMessage.MaxIdLength } id)
            return Invalid(kind, $"Must be 1 to {SegmentMessage.MaxIdLength} characters.");
        var source = http.User.SourceId();
        var rows = await PrivacyRecords.CountAsync(db, source, new PrivacySubject(kind, id), ct);
        long? deadLetters = null;
        try
        {
            var match = hasUser
                ? new DeadLetterSubjects(source, new HashSet<string> { id }, new HashSet<string>())
                : new DeadLetterSubjects(source, new HashSet<string>(), new HashSet<string> { id });
            await using var queue = await DeadLetterQueue.ConnectAsync(broker.Value, ct);
            deadLetters = (await queue.PeekAsync(int.MaxValue, ct)).Sum(l => match.Count(l.Body));
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException)
        {
            log.LogWarning("Dead letters not counted for a subject, broker unreachable: {Error}", e.Message);
        }
        return TypedResults.Ok(new SubjectView(rows.Events, rows.Quarantined, deadLetters, rows.Suppressed));
    }

    static RequestView View(PrivacyRequestRecord r) => new(r.Id, r.Type, r.Status, r.Reason, r.Subjects, r.KeyPrefix,
        r.RequestedAt, r.StartedAt, r.FinishedAt, new Removed(r.RemovedEvents, r.RemovedQuarantined, r.RemovedDeadLetters));

    static ValidationProblem Invalid(string field, string reason) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [reason] }, detail: "No request was recorded.");
}
