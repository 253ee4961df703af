using Dapper;
using Ingest.Api.ReadSide;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Ingest.Api.Keys;

/// <summary>The source a read key belongs to, so a client (the dashboard) can say whose data it shows.</summary>
public static class SourceApi
{
    const string SelectSource = "select id as Id, name as Name, created_at as CreatedAt from sources where id = @SourceId";

    public sealed record SourceView(string Id, string Name, DateTime CreatedAt);

    public static IEndpointRouteBuilder MapSource(this IEndpointRouteBuilder app)
    {
        app.MapReadGroup("Source").MapGet("/source", GetAsync).WithName("getSource");
        return app;
    }

    static async Task<Results<Ok<SourceView>, NotFound>> GetAsync(HttpContext http, [FromKeyedServices(ReadDatabase.Key)] NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var source = await conn.QuerySingleOrDefaultAsync<SourceView>(new CommandDefinition(SelectSource, new { SourceId = http.User.SourceId() }, cancellationToken: ct));
        // A key outlives its source by at most the key store's refresh interval.
        return source is null ? TypedResults.NotFound() : TypedResults.Ok(source);
    }
}
