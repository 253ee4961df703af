using System.Globalization;
using Dapper;
using Ingest.Api.Events;
using Ingest.Api.Keys;
using Ingest.Api.LiveTail;
using Ingest.Api.ReadSide;
using Ingest.Database.Events;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Npgsql;

namespace Ingest.Api.Events;

/// <summary>
/// The stored events of the read key's source: a filtered, newest-first list with keyset pagination (JSON, or CSV
/// streamed for analysts), one event by messageId, and the live tail (<see cref="LiveTailEndpoint"/>).
/// </summary>
public static class EventsApi
{
    // Each absent filter folds away (the parameters are known when PostgreSQL plans a one-shot statement), so the
    // planner picks the index of the filters given: see 0100_read_side.sql and the plans in the read-side note.
    internal static readonly string SelectEventsPage = $"""
        select {EventsTable.ReadSelectList}
        from events
        where source_id = @SourceId
          and (@Type::text is null or type = @Type)
          and (@Event::text is null or event = @Event)
          and (@UserId::text is null or coalesce(user_id, anonymous_id) = @UserId and user_id = @UserId)
          and (@AnonymousId::text is null or anonymous_id = @AnonymousId)
          and (@From::timestamptz is null or "timestamp" >= @From)
          and (@To::timestamptz is null or "timestamp" < @To)
          and (@AfterTimestamp::timestamptz is null or ("timestamp", id) < (@AfterTimestamp, @AfterId))
        order by "timestamp" desc, id desc
        limit @Limit
        """;

    /// <summary>
    /// An event by its key: the key's stored_at in event_keys names the event's partition and its place in
    /// events_stored (migration 0110). An event has no key only if it was inserted without one, which no import may do.
    /// </summary>
    internal static readonly string SelectEventByMessageId = $"""
        select {EventsTable.ReadSelectList} from events
        where source_id = @SourceId and message_id = @MessageId
          and stored_at = (select stored_at from event_keys where source_id = @SourceId and message_id = @MessageId)
        """;

    const string SelectQuarantinedByMessageId = """
        select id as Id, reason as Reason, quarantined_at as QuarantinedAt, replayed_at as ReplayedAt
        from quarantined_events
        where source_id = @SourceId and message_id = @MessageId
        order by id desc
        """;

    public static IEndpointRouteBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        var group = app.MapReadGroup("Events");
        group.MapGet("/events", ListAsync).WithName("listEvents").Produces(StatusCodes.Status200OK, contentType: "text/csv");
        group.MapGet("/events/stream", LiveTailEndpoint.StreamAsync).WithName("streamEvents").Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        group.MapGet("/events/{messageId}", GetAsync).WithName("getEvent");
        return app;
    }

    public sealed record EventsPage(IReadOnlyList<EventView> Events, string? NextCursor);

    /// <summary>The filters of GET /v1/events, read from the query string.</summary>
    public sealed record EventFilter(string SourceId, string? Type, string? Event, string? UserId, string? AnonymousId, DateTimeOffset? From, DateTimeOffset? To)
    {
        /// <summary>What a cursor is bound to: it is refused for any other source or filters.</summary>
        public string Scope => Paging.Scope("events", SourceId, Type, Event, UserId, AnonymousId, From, To);

        public static EventFilter Read(string sourceId, QueryParameters q)
        {
            var from = q.Instant("from");
            var to = q.Instant("to");
            q.CheckRange(from, to);
            return new(sourceId, q.OneOf("type", "track", "identify", "page", "screen", "group", "alias"), q.Text("event"), q.Text("userId"), q.Text("anonymousId"), from, to);
        }
    }

    static async Task<Results<Ok<EventsPage>, EmptyHttpResult, ValidationProblem>> ListAsync(
        HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db, KeysetCursor cursors, CancellationToken ct)
    {
        var q = new QueryParameters(http.Request.Query);
        var filter = EventFilter.Read(http.User.SourceId(), q);
        var csv = WantsCsv(http.Request);
        var limit = csv ? int.MaxValue : q.Limit();
        if (csv && q.Text("limit") is not null) limit = q.Limit(max: int.MaxValue);
        var page = q.Page(cursors, filter.Scope, limit);
        if (!q.IsValid) return TypedResults.ValidationProblem(q.Errors);

        var parameters = new
        {
            filter.SourceId, filter.Type, filter.Event, filter.UserId, filter.AnonymousId, filter.From, filter.To,
            AfterTimestamp = page.AfterTime,
            AfterId = page.AfterLongId,
            Limit = csv ? limit : page.RowsToRead,
        };
        if (csv)
        {
            await WriteCsvAsync(http, db, parameters, ct);
            return TypedResults.Empty;
        }
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<EventRow>(new CommandDefinition(SelectEventsPage, parameters, cancellationToken: ct))).AsList();
        var next = page.NextCursor(rows, r => r.Timestamp, r => r.Id);
        return TypedResults.Ok(new EventsPage(rows.ConvertAll(r => r.ToView()), next));
    }

    public sealed record QuarantineRecord(long Id, string Reason, DateTime QuarantinedAt, DateTime? ReplayedAt);

    /// <summary>stored (with the event), quarantined (with the reasons, newest first), or neither.</summary>
    public sealed record MessageStatus(string MessageId, string Status, EventView? Event, IReadOnlyList<QuarantineRecord> Quarantined);

    static async Task<Results<Ok<MessageStatus>, NotFound<ProblemDetails>>> GetAsync(string messageId, HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db, CancellationToken ct)
    {
        var sourceId = http.User.SourceId();
        await using var conn = await db.OpenConnectionAsync(ct);
        var stored = await conn.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition(SelectEventByMessageId, new { SourceId = sourceId, MessageId = messageId }, cancellationToken: ct));
        var quarantined = (await conn.QueryAsync<QuarantineRecord>(new CommandDefinition(SelectQuarantinedByMessageId, new { SourceId = sourceId, MessageId = messageId }, cancellationToken: ct))).AsList();
        if (stored is not null) return TypedResults.Ok(new MessageStatus(messageId, "stored", stored.ToView(), quarantined));
        if (quarantined.Count > 0) return TypedResults.Ok(new MessageStatus(messageId, "quarantined", null, quarantined));
        return TypedResults.NotFound(new ProblemDetails
        {
            Status = 404,
            Title = "Message not found",
            Detail = $"No event with messageId '{messageId}' was stored or quarantined for source {sourceId}. It may still be on its way from the broker.",
        });
    }

    static bool WantsCsv(HttpRequest request) =>
        MediaTypeHeaderValue.TryParseList(request.Headers.Accept.Select(a => a ?? "").ToList(), out var accepted)
        && accepted.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));

    /// <summary>Streams every matching row as RFC 4180 CSV, read unbuffered, flushed every 1,000 rows.</summary>
    static async Task WriteCsvAsync(HttpContext http, NpgsqlDataSource db, object parameters, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = conn.QueryUnbufferedAsync<EventRow>(SelectEventsPage, parameters);
        await using var enumerator = rows.GetAsyncEnumerator(ct);
        // The first row is read before the response starts, so a database error still becomes a 503.
        var hasRow = await enumerator.MoveNextAsync();
        await EventCsv.WriteAsync(http.Response, enumerator, hasRow, ct);
    }
}

