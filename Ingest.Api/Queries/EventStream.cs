using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Api.Queries;

/// <summary>
/// GET /v1/events/stream: Server-Sent Events of the source's events as they are stored, optionally of one event name.
/// Each SSE id is the event's id; a client reconnecting with Last-Event-ID gets the rows after it that were stored within
/// <see cref="QueryOptions.StreamReplayWindow"/>.
/// Identity ids are taken at insert but become visible at commit, so a lower id can become visible after a higher one
/// was sent: each read also looks again at rows stored within <see cref="QueryOptions.StreamLateCommitWindow"/> of the
/// newest one sent, skipping the ids already sent.
/// </summary>
public static class EventStream
{
    const int MaxRowsPerRead = 1000;

    const string EventColumns = EventsApi.EventColumns;

    // Two branches, each on an index of its own: the new ids (primary key range) and the late commits of lower ids
    // stored in the trailing window (events_source_stored). One OR over both made the planner walk the primary key.
    const string SelectNewEvents = $"""
        select * from (
            select {EventColumns}
            from events
            where id > @LastId
              and source_id = @SourceId
              and stored_at > @WindowStart::timestamptz
              and (@Event::text is null or event = @Event)
            union all
            select {EventColumns}
            from events
            where source_id = @SourceId
              and stored_at > @LateSince::timestamptz
              and id <= @LastId
              and id <> all(@SentIds)
              and (@Event::text is null or event = @Event)
        ) as fresh
        order by Id
        limit @Limit
        """;

    const string SelectStartPosition = "select coalesce(max(id), 0) as LastId, now() as Now from events";

    const string SelectNow = "select now()";

    public static async Task<Results<EmptyHttpResult, ValidationProblem>> StreamAsync(
        HttpContext http, NpgsqlDataSource db, EventFeed feed, IOptions<QueryOptions> options, CancellationToken ct)
    {
        var sourceId = ReadAccess.SourceOf(http);
        var q = new QueryParameters(http.Request.Query);
        var eventName = q.Text("event");
        long? resumeAfter = null;
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        if (lastEventId.Length > 0)
        {
            if (long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)) resumeAfter = id;
            else q.Fail("Last-Event-ID", $"'{lastEventId}' is not an event id this stream sent.");
        }
        if (!q.IsValid) return TypedResults.ValidationProblem(q.Errors);

        var settings = options.Value;
        long lastId;
        DateTime windowStart, lateSince, connectedAt;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            // Before the response starts, so that a database outage is a 503.
            var start = await conn.QuerySingleAsync<(long LastId, DateTime Now)>(new CommandDefinition(SelectStartPosition, cancellationToken: ct));
            lastId = resumeAfter ?? start.LastId;
            windowStart = start.Now - settings.StreamReplayWindow;
            // Rows stored before this connection are the client's business (Last-Event-ID), never late rows of this stream.
            connectedAt = lateSince = start.Now;
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.WriteAsync($"retry: 1000\n: streaming events of {sourceId}\n\n", ct);
        await http.Response.Body.FlushAsync(ct);

        var sent = new Dictionary<long, DateTime>(); // ids sent within the late-commit window, with their stored_at
        var newest = DateTime.MinValue;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var woken = feed.NextAsync; // taken before reading: a notification during the read is not lost
                List<EventRow> rows;
                try
                {
                    await using var conn = await db.OpenConnectionAsync(ct);
                    rows = (await conn.QueryAsync<EventRow>(new CommandDefinition(SelectNewEvents, new
                    {
                        SourceId = sourceId,
                        Event = eventName,
                        WindowStart = new DateTimeOffset(windowStart, TimeSpan.Zero),
                        LastId = lastId,
                        LateSince = new DateTimeOffset(lateSince, TimeSpan.Zero),
                        SentIds = sent.Keys.ToArray(),
                        Limit = MaxRowsPerRead,
                    }, cancellationToken: ct))).AsList();
                    windowStart = await conn.ExecuteScalarAsync<DateTime>(new CommandDefinition(SelectNow, cancellationToken: ct)) - settings.StreamReplayWindow;
                }
                catch (Exception e) when (ReadAccess.IsDatabaseDown(e))
                {
                    // The database went away mid-stream: keep the client, retry at the next poll.
                    await http.Response.WriteAsync(": database unavailable, retrying\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    await Task.WhenAny(woken, Task.Delay(settings.StreamPollInterval, ct));
                    continue;
                }

                var text = new StringBuilder();
                foreach (var row in rows)
                {
                    if (!sent.TryAdd(row.Id, row.StoredAt)) continue;
                    lastId = Math.Max(lastId, row.Id);
                    if (row.StoredAt > newest) newest = row.StoredAt;
                    text.Append("id: ").Append(row.Id.ToString(CultureInfo.InvariantCulture)).Append('\n')
                        .Append("event: ").Append(row.Type).Append('\n')
                        .Append("data: ").Append(JsonSerializer.Serialize(row.ToView(), JsonSerializerOptions.Web)).Append("\n\n");
                }
                if (newest != DateTime.MinValue)
                {
                    lateSince = Max(connectedAt, newest - settings.StreamLateCommitWindow);
                    foreach (var old in sent.Where(s => s.Value <= lateSince).Select(s => s.Key).ToList()) sent.Remove(old);
                }
                if (text.Length > 0)
                {
                    await http.Response.WriteAsync(text.ToString(), ct);
                    await http.Response.Body.FlushAsync(ct);
                }
                if (rows.Count == MaxRowsPerRead) continue; // more to catch up on
                var timeout = Task.Delay(settings.StreamPollInterval, ct);
                if (await Task.WhenAny(woken, timeout) == timeout)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the client went away
        }
        return TypedResults.Empty;
    }

    static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
}
