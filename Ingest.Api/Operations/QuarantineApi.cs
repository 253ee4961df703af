using System.Text.Json;
using Dapper;
using Ingest.Api.Keys;
using Ingest.Api.Publishing;
using Ingest.Api.ReadSide;
using Ingest.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Api.Operations;

/// <summary>
/// The events the database refused for a non-transient reason, with that reason; and their replay through the normal
/// path (the broker, then the worker), once the cause was removed. A replay is recorded (replayed_at) in the same
/// transaction that holds the row's lock while the broker confirms, so two replays of one row publish it once.
/// </summary>
public static class QuarantineApi
{
    internal const string SelectQuarantinePage = """
        select id as Id, message_id as MessageId, reason as Reason, transaction_id as TransactionId,
               quarantined_at as QuarantinedAt, replayed_at as ReplayedAt, raw as Raw
        from quarantined_events
        where source_id = @SourceId
          and (@Replayed::boolean is null or (replayed_at is not null) = @Replayed)
          and (@AfterQuarantinedAt::timestamptz is null or (quarantined_at, id) < (@AfterQuarantinedAt, @AfterId))
        order by quarantined_at desc, id desc
        limit @Limit
        """;

    const string ClaimForReplay = """
        update quarantined_events set replayed_at = now()
        where id = @Id and source_id = @SourceId and replayed_at is null
        returning message_id as MessageId, raw as Raw, replayed_at as ReplayedAt
        """;

    const string SelectReplayState = "select message_id as MessageId, replayed_at as ReplayedAt from quarantined_events where id = @Id and source_id = @SourceId";

    public static IEndpointRouteBuilder MapQuarantine(this IEndpointRouteBuilder app)
    {
        var group = app.MapReadGroup("Quarantine");
        group.MapGet("/quarantine", ListAsync).WithName("listQuarantine");
        group.MapPost("/quarantine/{id:long}/replay", ReplayAsync).WithName("replayQuarantined");
        return app;
    }

    public sealed class QuarantinedRow
    {
        public long Id { get; init; }
        public required string MessageId { get; init; }
        public required string Reason { get; init; }
        public Guid TransactionId { get; init; }
        public DateTime QuarantinedAt { get; init; }
        public DateTime? ReplayedAt { get; init; }

        /// <summary>The message as the worker received it (JSON of the event, kept as text: it may not even parse).</summary>
        public required string Raw { get; init; }
    }

    public sealed record QuarantinePage(IReadOnlyList<QuarantinedRow> Quarantined, string? NextCursor);

    /// <summary>Replayed now (published again), or already replayed earlier (nothing done this time).</summary>
    public sealed record ReplayResult(long Id, string MessageId, bool Replayed, DateTime ReplayedAt, string Detail);

    static async Task<Results<Ok<QuarantinePage>, ValidationProblem>> ListAsync(HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db, KeysetCursor cursors, CancellationToken ct)
    {
        var q = new QueryParameters(http.Request.Query);
        var replayed = q.OneOf("replayed", "true", "false") is { } r ? r == "true" : (bool?)null;
        var sourceId = http.User.SourceId();
        var page = q.Page(cursors, Paging.Scope("quarantine", sourceId, replayed));
        if (!q.IsValid) return TypedResults.ValidationProblem(q.Errors);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<QuarantinedRow>(new CommandDefinition(SelectQuarantinePage, new
        {
            SourceId = sourceId,
            Replayed = replayed,
            AfterQuarantinedAt = page.AfterTime,
            AfterId = page.AfterLongId,
            Limit = page.RowsToRead,
        }, cancellationToken: ct))).AsList();
        var next = page.NextCursor(rows, r => r.QuarantinedAt, r => r.Id);
        return TypedResults.Ok(new QuarantinePage(rows, next));
    }

    static async Task<Results<Ok<ReplayResult>, NotFound<ProblemDetails>, UnprocessableEntity<ProblemDetails>, ProblemHttpResult>> ReplayAsync(
        long id, HttpContext http, NpgsqlDataSource db, EventPublisher publisher, IOptions<PublishOptions> publishOptions, ILoggerFactory logs, CancellationToken ct)
    {
        var sourceId = http.User.SourceId();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // The primary, not the read side's replica: this writes. Waits for a concurrent replay of the same row to finish, then finds it replayed.
        var claimed = await conn.QuerySingleOrDefaultAsync<(string MessageId, string Raw, DateTime ReplayedAt)?>(
            new CommandDefinition(ClaimForReplay, new { Id = id, SourceId = sourceId }, tx, cancellationToken: ct));
        if (claimed is not { } row)
        {
            await tx.RollbackAsync(ct);
            var state = await conn.QuerySingleOrDefaultAsync<(string MessageId, DateTime ReplayedAt)?>(
                new CommandDefinition(SelectReplayState, new { Id = id, SourceId = sourceId }, cancellationToken: ct));
            return state is { } s
                ? TypedResults.Ok(new ReplayResult(id, s.MessageId, false, s.ReplayedAt, $"Already replayed at {s.ReplayedAt:O}; nothing was published this time."))
                : TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Not in quarantine", Detail = $"No quarantined event {id} for source {sourceId}." });
        }

        EncodedEvents? evt;
        try
        {
            // The source is the key's, as on the write side, whatever the raw message says.
            evt = JsonSerializer.Deserialize<AnalyticsEvent>(row.Raw, JsonSerializerOptions.Web) is { } e ? EncodedEvents.Encode([e with { SourceId = sourceId }]) : null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            evt = null;
            logs.CreateLogger(nameof(QuarantineApi)).LogWarning("Quarantined event {QuarantineId} cannot be replayed: {Error}", id, e.Message);
        }
        if (evt is null)
        {
            await tx.RollbackAsync(ct);
            return TypedResults.UnprocessableEntity(new ProblemDetails
            {
                Status = 422,
                Title = "Not replayable",
                Detail = $"The raw message of quarantined event {id} is not an event this API can publish again.",
            });
        }

        try
        {
            await publisher.PublishAsync(evt, ct);
        }
        catch (BrokerUnavailableException e)
        {
            await tx.RollbackAsync(CancellationToken.None);
            RetryAfter.Set(http.Response, publishOptions.Value.RetryAfterSeconds);
            return TypedResults.Problem($"{e.Message} The event stays in quarantine, not replayed; retry later.", statusCode: 503, title: "Broker unavailable");
        }
        await tx.CommitAsync(ct);
        logs.CreateLogger(nameof(QuarantineApi)).LogInformation("Replayed quarantined event {QuarantineId} {MessageId} of {SourceId}", id, row.MessageId, sourceId);
        return TypedResults.Ok(new ReplayResult(id, row.MessageId, true, row.ReplayedAt, "Published to the broker again; the worker stores it once (idempotent on messageId)."));
    }
}
