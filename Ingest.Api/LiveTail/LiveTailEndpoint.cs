using System.Text;
using System.Text.Json;
using Dapper;
using Ingest.Api.Events;
using Ingest.Api.Keys;
using Ingest.Api.ReadSide;
using Ingest.Database;
using Ingest.Database.Events;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Api.LiveTail;

/// <summary>
/// GET /v1/events/stream: Server-Sent Events of the source's events as their transactions commit, optionally of one
/// event name, from the instance's one <see cref="LiveTailReader"/>. Each SSE id is a <see cref="TailPosition"/>: a client
/// reconnecting with it as Last-Event-ID first gets, from the database, the rows it does not have that were stored within
/// <see cref="QueryOptions.StreamReplayWindow"/>, then the live rows, with nothing missed and nothing twice.
/// The catch-up reads the primary, as the feed does: it reads what the feed's snapshot sees, which a lagging replica
/// may not hold yet (<see cref="ReadDatabase"/>).
/// </summary>
public static class LiveTailEndpoint
{
    const int MaxRowsPerRead = 1000;

    /// <summary>A reconnecting client's catch-up: its source's rows that @Joined sees and @Before does not, after a position.</summary>
    internal static readonly string SelectRowsToCatchUp = $"""
        select xact_id::text::bigint as XactId, source_id as SourceId, {EventsTable.ReadSelectList}
        from events
        where source_id = @SourceId
          and (xact_id, id) > (@AfterXact::text::xid8, @AfterId)
          and xact_id < pg_snapshot_xmax(@Joined::pg_snapshot)
          and not pg_visible_in_snapshot(xact_id, @Before::pg_snapshot)
          and pg_visible_in_snapshot(xact_id, @Joined::pg_snapshot)
          and stored_at > now() - @ReplayWindow
          and (@Event::text is null or event = @Event)
        order by xact_id, id
        limit @Limit
        """;

    static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(10);

    public static async Task<Results<EmptyHttpResult, ValidationProblem, ProblemHttpResult>> StreamAsync(
        HttpContext http, NpgsqlDataSource db, LiveTailReader feed, IOptions<QueryOptions> options, CancellationToken ct)
    {
        var sourceId = http.User.SourceId();
        var q = new QueryParameters(http.Request.Query);
        var eventName = q.Text("event");
        TailPosition? resume = null;
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        if (lastEventId.Length > 0)
        {
            resume = TailPosition.Parse(lastEventId);
            if (resume is null) q.Fail("Last-Event-ID", $"'{lastEventId}' is not an event id this stream sent.");
        }
        if (!q.IsValid) return TypedResults.ValidationProblem(q.Errors);

        var settings = options.Value;
        using var subscription = feed.Subscribe(sourceId, eventName);
        if (subscription is null)
        {
            RetryAfter.Set(http.Response, settings.RetryAfterSeconds);
            return TypedResults.Problem($"This API instance serves at most {settings.MaxStreamConnections} live-tail connections; retry later.",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many live-tail connections");
        }

        // Before the response starts, so that a database outage is a 503.
        var joined = await subscription.Joined.Task.WaitAsync(JoinTimeout, ct);
        var catchUp = new List<TailedRow>();
        var after = (Xact: resume?.Before.Xmin ?? 0, Id: 0L);
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (resume is null) await DatabaseAvailability.ProbeAsync(conn, ct);
            else catchUp = await ReadCatchUpAsync(conn, sourceId, eventName, resume, joined, after, settings.StreamReplayWindow, ct);
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.WriteAsync($"retry: 1000\n: streaming events of {sourceId}\n\n", ct);
        await http.Response.Body.FlushAsync(ct);

        try
        {
            // The rows committed before this client joined the feed, read from the database in pages.
            while (resume is not null && catchUp.Count > 0)
            {
                await WriteAsync(http, catchUp, resume.Before, joined, resume, ct);
                if (catchUp.Count < MaxRowsPerRead) break;
                after = (catchUp[^1].XactId, catchUp[^1].Row.Id);
                await using var conn = await db.OpenConnectionAsync(ct);
                catchUp = await ReadCatchUpAsync(conn, sourceId, eventName, resume, joined, after, settings.StreamReplayWindow, ct);
            }

            // Then every row committed after, from the feed.
            while (!ct.IsCancellationRequested)
            {
                using var poll = CancellationTokenSource.CreateLinkedTokenSource(ct);
                poll.CancelAfter(settings.StreamPollInterval);
                bool more;
                try { more = await subscription.Batches.WaitToReadAsync(poll.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    await http.Response.WriteAsync(feed.IsDatabaseDown ? ": database unavailable, retrying\n\n" : ": keep-alive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    continue;
                }
                catch (ClientTooSlowException)
                {
                    await http.Response.WriteAsync(": too far behind, reconnect with Last-Event-ID\n\n", ct);
                    break;
                }
                if (!more) break; // the host is stopping
                while (subscription.Batches.TryRead(out var batch))
                {
                    await WriteAsync(http, batch.Rows, batch.Before, batch.Upto, resume, ct);
                    subscription.Written(batch);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the client went away
        }
        return TypedResults.Empty;
    }

    static async Task<List<TailedRow>> ReadCatchUpAsync(NpgsqlConnection conn, string sourceId, string? eventName, TailPosition resume,
        TailSnapshot joined, (long Xact, long Id) after, TimeSpan replayWindow, CancellationToken ct) =>
        (await conn.QueryAsync<TailKey, EventRow, TailedRow>(new CommandDefinition(SelectRowsToCatchUp, new
        {
            SourceId = sourceId,
            Event = eventName,
            AfterXact = after.Xact,
            AfterId = after.Id,
            Before = resume.Before.ToString(),
            Joined = joined.ToString(),
            ReplayWindow = replayWindow,
            Limit = MaxRowsPerRead,
        }, cancellationToken: ct), (key, row) => new TailedRow(key.XactId, key.SourceId, row), splitOn: "Id")).AsList();

    /// <summary>The rows that <paramref name="upto"/> sees and <paramref name="before"/> does not, less those the client has.</summary>
    static async Task WriteAsync(HttpContext http, IReadOnlyList<TailedRow> rows, TailSnapshot before, TailSnapshot upto,
        TailPosition? resumed, CancellationToken ct)
    {
        var text = new StringBuilder();
        foreach (var (xact, _, row) in rows)
        {
            if (resumed is not null && resumed.Has(xact, row.Id)) continue;
            text.Append("id: ").Append(new TailPosition(before, upto, xact, row.Id)).Append('\n')
                .Append("event: ").Append(row.Type).Append('\n')
                .Append("data: ").Append(JsonSerializer.Serialize(row.ToView(), JsonSerializerOptions.Web)).Append("\n\n");
        }
        if (text.Length == 0) return;
        await http.Response.WriteAsync(text.ToString(), ct);
        await http.Response.Body.FlushAsync(ct);
    }
}
