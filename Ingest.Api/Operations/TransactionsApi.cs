using Dapper;
using Ingest.Api.ReadSide;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Ingest.Api.Operations;

/// <summary>
/// The transaction log: one row per batch write of a worker, newest first, keyset-paginated on (started_at, id).
/// Batches mix sources, so the log has no source: any read key sees it (counts and errors, never event data).
/// </summary>
public static class TransactionsApi
{
    internal const string SelectTransactionsPage = """
        select id as Id, worker_host as WorkerHost, started_at as StartedAt, finished_at as FinishedAt, status as Status,
               broker_messages as BrokerMessages, events as Events, inserted as Inserted, duplicates as Duplicates,
               quarantined as Quarantined, attempt as Attempt, error as Error
        from ingest_transactions
        where (@Status::text is null or status = @Status)
          and (@From::timestamptz is null or started_at >= @From)
          and (@To::timestamptz is null or started_at < @To)
          and (@AfterStartedAt::timestamptz is null or (started_at, id) < (@AfterStartedAt, @AfterId::uuid))
        order by started_at desc, id desc
        limit @Limit
        """;

    // One row per minute that has attempts: the dashboard's chart, however many transactions a minute holds.
    const string CountPerMinute = """
        select date_trunc('minute', started_at at time zone 'UTC') as Minute,
               count(*) filter (where status = 'committed') as Committed,
               count(*) filter (where status = 'failed') as Failed,
               coalesce(sum(inserted) filter (where status = 'committed'), 0) as Inserted
        from ingest_transactions
        where started_at >= @From and started_at < @To
        group by 1
        order by 1
        """;

    public static IEndpointRouteBuilder MapTransactions(this IEndpointRouteBuilder app)
    {
        var group = app.MapReadGroup("Transactions");
        group.MapGet("/transactions", ListAsync).WithName("listTransactions");
        group.MapGet("/transactions/per-minute", PerMinuteAsync).WithName("transactionsPerMinute");
        return app;
    }

    /// <summary>The attempts that started in one minute (UTC): committed, failed, and the events the committed ones inserted.</summary>
    public sealed record MinuteCount(DateTime Minute, long Committed, long Failed, long Inserted);
    public sealed record TransactionsPerMinute(DateTime From, DateTime To, IReadOnlyList<MinuteCount> Minutes);

    /// <summary>from (default: an hour before to) to to (default: now), at most a day apart.</summary>
    static async Task<Results<Ok<TransactionsPerMinute>, ValidationProblem>> PerMinuteAsync(HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db, TimeProvider time, CancellationToken ct)
    {
        var q = new QueryParameters(http.Request.Query);
        var (from, to) = q.Range(time, TimeSpan.FromHours(1), TimeSpan.FromDays(1));
        if (!q.IsValid) return TypedResults.ValidationProblem(q.Errors);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(DateTime Minute, long Committed, long Failed, long Inserted)>(new CommandDefinition(CountPerMinute, new { From = from, To = to }, cancellationToken: ct));
        return TypedResults.Ok(new TransactionsPerMinute(from.UtcDateTime, to.UtcDateTime,
            rows.Select(r => new MinuteCount(DateTime.SpecifyKind(r.Minute, DateTimeKind.Utc), r.Committed, r.Failed, r.Inserted)).ToList()));
    }

    public sealed class TransactionRow
    {
        public Guid Id { get; init; }
        public required string WorkerHost { get; init; }
        public DateTime StartedAt { get; init; }
        public DateTime? FinishedAt { get; init; }
        public required string Status { get; init; }
        public int BrokerMessages { get; init; }
        public int Events { get; init; }
        public int Inserted { get; init; }
        public int Duplicates { get; init; }
        public int Quarantined { get; init; }
        public int Attempt { get; init; }
        public string? Error { get; init; }
    }

    public sealed record TransactionsPage(IReadOnlyList<TransactionRow> Transactions, string? NextCursor);

    static async Task<Results<Ok<TransactionsPage>, ValidationProblem>> ListAsync(HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db, KeysetCursor cursors, CancellationToken ct)
    {
        var q = new QueryParameters(http.Request.Query);
        var status = q.OneOf("status", "committed", "failed");
        var from = q.Instant("from");
        var to = q.Instant("to");
        q.CheckRange(from, to);
        var page = q.Page(cursors, Paging.Scope("transactions", status, from, to));
        if (!q.IsValid) return TypedResults.ValidationProblem(q.Errors);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<TransactionRow>(new CommandDefinition(SelectTransactionsPage, new
        {
            Status = status, From = from, To = to,
            AfterStartedAt = page.AfterTime,
            AfterId = page.AfterId,
            Limit = page.RowsToRead,
        }, cancellationToken: ct))).AsList();
        var next = page.NextCursor(rows, r => r.StartedAt, r => r.Id);
        return TypedResults.Ok(new TransactionsPage(rows, next));
    }
}
