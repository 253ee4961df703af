using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Ingest.Api.Keys;
using Ingest.Api.LiveTail;
using Ingest.Api.ReadSide;
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
    /// <summary>The columns of <see cref="EventRow"/>, also read by the live tail.</summary>
    internal const string EventColumns = """
        id as Id, message_id as MessageId, type as Type, event as Event, name as Name, user_id as UserId,
        anonymous_id as AnonymousId, group_id as GroupId, previous_id as PreviousId, "timestamp" as Timestamp,
        original_timestamp as OriginalTimestamp, sent_at as SentAt, received_at as ReceivedAt, stored_at as StoredAt,
        timestamp_clamped as TimestampClamped, properties::text as Properties, traits::text as Traits,
        context::text as Context, integrations::text as Integrations
        """;

    // Each absent filter folds away (the parameters are known when PostgreSQL plans a one-shot statement), so the
    // planner picks the index of the filters given: see 0100_read_side.sql and the plans in the read-side note.
    const string SelectEventsPage = $"""
        select {EventColumns}
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

    const string SelectEventByMessageId = $"select {EventColumns} from events where source_id = @SourceId and message_id = @MessageId";

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

    static readonly string[] CsvHeader =
        ["id", "message_id", "type", "event", "name", "user_id", "anonymous_id", "group_id", "previous_id", "timestamp", "original_timestamp",
         "sent_at", "received_at", "stored_at", "timestamp_clamped", "properties", "traits", "context", "integrations"];

    /// <summary>Streams every matching row as RFC 4180 CSV, read unbuffered, flushed every 1,000 rows.</summary>
    static async Task WriteCsvAsync(HttpContext http, NpgsqlDataSource db, object parameters, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = conn.QueryUnbufferedAsync<EventRow>(SelectEventsPage, parameters);
        await using var enumerator = rows.GetAsyncEnumerator(ct);
        // The first row is read before the response starts, so a database error still becomes a 503.
        var hasRow = await enumerator.MoveNextAsync();
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"events.csv\"";
        await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(false), 64 * 1024);
        await writer.WriteAsync(string.Join(',', CsvHeader) + "\r\n");
        var count = 0;
        while (hasRow)
        {
            var r = enumerator.Current;
            var line = new StringBuilder(256);
            Append(line, r.Id.ToString(CultureInfo.InvariantCulture), r.MessageId, r.Type, r.Event, r.Name, r.UserId, r.AnonymousId, r.GroupId, r.PreviousId,
                Iso(r.Timestamp), Iso(r.OriginalTimestamp), Iso(r.SentAt), Iso(r.ReceivedAt), Iso(r.StoredAt), r.TimestampClamped ? "true" : "false",
                r.Properties, r.Traits, r.Context, r.Integrations);
            await writer.WriteAsync(line.Append("\r\n"), ct);
            if (++count % 1000 == 0) await writer.FlushAsync(ct);
            hasRow = await enumerator.MoveNextAsync();
        }
        await writer.FlushAsync(ct);
    }

    static string? Iso(DateTime? time) => time?.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// RFC 4180: a field holding a comma, quote or line break is quoted, its quotes doubled. A field a spreadsheet would
    /// run as a formula (starting with = + - @ tab or carriage return) first gets a leading ', as OWASP's CSV injection
    /// page advises: stored events come from anyone who holds a write key, the export is opened by analysts.
    /// </summary>
    public static void Append(StringBuilder line, params string?[] fields)
    {
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0) line.Append(',');
            var field = fields[i] ?? "";
            if (field.Length > 0 && "=+-@\t\r".Contains(field[0], StringComparison.Ordinal)) field = "'" + field;
            if (field.AsSpan().IndexOfAny(",\"\r\n") < 0) line.Append(field);
            else line.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
    }
}

/// <summary>An events row as Dapper reads it (jsonb as text).</summary>
public sealed class EventRow
{
    public long Id { get; init; }
    public required string MessageId { get; init; }
    public required string Type { get; init; }
    public string? Event { get; init; }
    public string? Name { get; init; }
    public string? UserId { get; init; }
    public string? AnonymousId { get; init; }
    public string? GroupId { get; init; }
    public string? PreviousId { get; init; }
    public DateTime Timestamp { get; init; }
    public DateTime? OriginalTimestamp { get; init; }
    public DateTime? SentAt { get; init; }
    public DateTime ReceivedAt { get; init; }
    public DateTime StoredAt { get; init; }
    public bool TimestampClamped { get; init; }
    public string? Properties { get; init; }
    public string? Traits { get; init; }
    public string? Context { get; init; }
    public string? Integrations { get; init; }

    public EventView ToView() => new(Id, MessageId, Type, Event, Name, UserId, AnonymousId, GroupId, PreviousId, Timestamp, OriginalTimestamp, SentAt,
        ReceivedAt, StoredAt, TimestampClamped, Json(Properties), Json(Traits), Json(Context), Json(Integrations));

    static JsonElement? Json(string? text) => text is null ? null : JsonElement.Parse(text);
}

/// <summary>A stored event as the read side shows it, in the names of Segment's spec.</summary>
public sealed record EventView(long Id, string MessageId, string Type, string? Event, string? Name, string? UserId, string? AnonymousId,
    string? GroupId, string? PreviousId, DateTime Timestamp, DateTime? OriginalTimestamp, DateTime? SentAt, DateTime ReceivedAt,
    DateTime StoredAt, bool TimestampClamped, JsonElement? Properties, JsonElement? Traits, JsonElement? Context, JsonElement? Integrations);
