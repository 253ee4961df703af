using Ingest.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Api.ReadSide;

/// <summary>
/// While PostgreSQL is unreachable, a read endpoint answers 503 with Retry-After instead of a 500 (only before the
/// response has started: a stream cut off mid-way just ends). After any database failure both pools the read side uses
/// are cleared, so the next request runs on sessions opened after it: a fix that lives in a session (a reset
/// statement_timeout, a failover behind the same host name) is taken up at once, not when idle connections are pruned.
/// </summary>
public sealed class DatabaseUnavailableFilter(IOptions<QueryOptions> options, ILogger<DatabaseUnavailableFilter> log) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context);
        }
        catch (Exception e) when (e is NpgsqlException || DatabaseAvailability.IsUnavailable(e))
        {
            RenewSessions(http);
            if (!DatabaseAvailability.IsUnavailable(e) || http.Response.HasStarted) throw;
            log.LogWarning("Read request {Path} answered 503, database unreachable: {Error}", http.Request.Path.Value, e.Message);
            RetryAfter.Set(http.Response, options.Value.RetryAfterSeconds);
            return TypedResults.Problem("The event database cannot be reached; the events are safe and ingestion goes on. Retry later.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Database unavailable");
        }
    }

    /// <summary>Clears the primary's pool and the replica's (the same one when no replica is set).</summary>
    static void RenewSessions(HttpContext http)
    {
        http.RequestServices.GetRequiredService<NpgsqlDataSource>().Clear();
        http.RequestServices.GetRequiredKeyedService<NpgsqlDataSource>(ReadDatabase.Key).Clear();
    }
}
