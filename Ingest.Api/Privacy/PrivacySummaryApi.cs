using Ingest.Api.Keys;
using Ingest.Api.ReadSide;
using Ingest.Database.Privacy;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Ingest.Api.Privacy;

/// <summary>
/// GET /v1/privacy/summary: what a read key (the dashboard) may know of its source's privacy requests, which only an
/// admin key can make (<see cref="PrivacyApi"/>): how many events this API instance suppressed, how many subjects are
/// suppressed, and the recent requests with their status and counts. Never a subject's id or hash: a read key must not
/// learn who asked to be forgotten.
/// </summary>
public static class PrivacySummaryApi
{
    /// <summary>As many as a dashboard panel shows; the admin list (GET /v1/privacy/requests) has more.</summary>
    public const int RecentRequests = 20;

    /// <param name="SuppressedEvents">Of this API instance since it started (<see cref="SuppressionList.SuppressedSince"/>): each instance counts its own.</param>
    public sealed record PrivacySummary(long SuppressedEvents, long SuppressedSubjects, IReadOnlyList<PrivacyRequestSummary> Requests);

    /// <summary>
    /// A request as a read key sees it. A type of its own rather than the admin's <see cref="PrivacyApi.RequestView"/>,
    /// so that whatever a receipt gains for admins does not reach read keys unless it is added here.
    /// </summary>
    public sealed record PrivacyRequestSummary(Guid Id, string Type, string Status, string? Reason, int Subjects, string Key,
        DateTime RequestedAt, DateTime? StartedAt, DateTime? FinishedAt, PrivacyApi.Removed Removed);

    public static IEndpointRouteBuilder MapPrivacySummary(this IEndpointRouteBuilder app)
    {
        app.MapReadGroup("Privacy").MapGet("/privacy/summary", GetAsync).WithName("getPrivacySummary");
        return app;
    }

    /// <summary>
    /// From the read side's database, a replica when there is one, as every view of the dashboard: a lagging replica
    /// may show a request's status late, never a subject, since none is read.
    /// </summary>
    static async Task<Ok<PrivacySummary>> GetAsync(HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db,
        SuppressionList suppressions, CancellationToken ct)
    {
        var source = http.User.SourceId();
        var requests = await PrivacyRecords.RecentAsync(db, source, RecentRequests, ct);
        var subjects = await PrivacyRecords.CountSuppressedAsync(db, source, ct);
        return TypedResults.Ok(new PrivacySummary(suppressions.SuppressedSince(source), subjects, requests.Select(View).ToList()));
    }

    static PrivacyRequestSummary View(PrivacyRequestRecord r) => new(r.Id, r.Type, r.Status, r.Reason, r.Subjects, r.KeyPrefix,
        r.RequestedAt, r.StartedAt, r.FinishedAt, new PrivacyApi.Removed(r.RemovedEvents, r.RemovedQuarantined, r.RemovedDeadLetters));
}
