using Dapper;
using Ingest.Api.Keys;
using Ingest.Api.ReadSide;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Ingest.Api.Events;

/// <summary>Counts for dashboards, over the corrected timestamp, in UTC buckets. A user is coalesce(userId, anonymousId).</summary>
public static class StatsApi
{
    internal const string CountEventsPerBucket = """
        select date_trunc(@Interval, "timestamp" at time zone 'UTC') as Bucket, event as Event, count(*) as Count
        from events
        where source_id = @SourceId
          and event is not null
          and (@Event::text is null or event = @Event)
          and "timestamp" >= @From::timestamptz and "timestamp" < @To::timestamptz
        group by 1, 2
        order by 1, 2
        """;

    // first_seen is over the source's whole history (before @To), so a user seen before @From is not new in the range.
    internal const string CountUsersPerDay = """
        with firsts as (
            select coalesce(user_id, anonymous_id) as user_key, min("timestamp") as first_seen
            from events
            where source_id = @SourceId and "timestamp" < @To::timestamptz
            group by 1
        ), active as (
            select date_trunc('day', "timestamp" at time zone 'UTC') as day, count(distinct coalesce(user_id, anonymous_id)) as users
            from events
            where source_id = @SourceId and "timestamp" >= @From::timestamptz and "timestamp" < @To::timestamptz
            group by 1
        ), new_users as (
            select date_trunc('day', first_seen at time zone 'UTC') as day, count(*) as users
            from firsts
            where first_seen >= @From::timestamptz
            group by 1
        ), days as (
            select generate_series(date_trunc('day', @From::timestamptz at time zone 'UTC'),
                                   @To::timestamptz at time zone 'UTC' - interval '1 microsecond', interval '1 day') as day
        )
        select d.day as Day,
               coalesce(a.users, 0) as Users,
               coalesce(n.users, 0) as NewUsers,
               (select count(*) from firsts where first_seen < @From::timestamptz)
                   + sum(coalesce(n.users, 0)) over (order by d.day) as CumulativeUsers
        from days d
        left join active a on a.day = d.day
        left join new_users n on n.day = d.day
        order by d.day
        """;

    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder app)
    {
        var group = app.MapReadGroup("Statistics");
        group.MapGet("/stats/events", EventsAsync).WithName("eventStats");
        group.MapGet("/stats/users", UsersAsync).WithName("userStats");
        return app;
    }

    public sealed record EventCount(DateTime Bucket, string Event, long Count);
    public sealed record EventStats(string Interval, DateTime From, DateTime To, IReadOnlyList<EventCount> Counts);

    public sealed record UserDay(DateTime Day, long Users, long NewUsers, long CumulativeUsers);
    public sealed record UserStats(DateTime From, DateTime To, IReadOnlyList<UserDay> Days);

    static async Task<Results<Ok<EventStats>, ValidationProblem>> EventsAsync(HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db, TimeProvider time, CancellationToken ct)
    {
        var q = new QueryParameters(http.Request.Query);
        var interval = q.OneOf("interval", "hour", "day") ?? "hour";
        var (from, to) = q.Range(time, interval == "hour" ? TimeSpan.FromDays(1) : TimeSpan.FromDays(30), interval == "hour" ? TimeSpan.FromDays(92) : TimeSpan.FromDays(3660));
        if (!q.IsValid) return TypedResults.ValidationProblem(q.Errors);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(DateTime Bucket, string Event, long Count)>(new CommandDefinition(CountEventsPerBucket,
            new { Interval = interval, SourceId = http.User.SourceId(), Event = q.Text("event"), From = from, To = to }, cancellationToken: ct));
        return TypedResults.Ok(new EventStats(interval, from.UtcDateTime, to.UtcDateTime,
            rows.Select(r => new EventCount(DateTime.SpecifyKind(r.Bucket, DateTimeKind.Utc), r.Event, r.Count)).ToList()));
    }

    static async Task<Results<Ok<UserStats>, ValidationProblem>> UsersAsync(HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db, TimeProvider time, CancellationToken ct)
    {
        var q = new QueryParameters(http.Request.Query);
        var (from, to) = q.Range(time, TimeSpan.FromDays(30), TimeSpan.FromDays(366));
        if (!q.IsValid) return TypedResults.ValidationProblem(q.Errors);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(DateTime Day, long Users, long NewUsers, decimal CumulativeUsers)>(new CommandDefinition(CountUsersPerDay,
            new { SourceId = http.User.SourceId(), From = from, To = to }, cancellationToken: ct));
        return TypedResults.Ok(new UserStats(from.UtcDateTime, to.UtcDateTime,
            rows.Select(r => new UserDay(DateTime.SpecifyKind(r.Day, DateTimeKind.Utc), r.Users, r.NewUsers, (long)r.CumulativeUsers)).ToList()));
    }
}
