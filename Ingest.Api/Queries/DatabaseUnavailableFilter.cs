using Ingest.Database;
using Microsoft.Extensions.Options;

namespace Ingest.Api.Queries;

/// <summary>
/// While PostgreSQL is unreachable, a read endpoint answers 503 with Retry-After instead of a 500 (only before the
/// response has started: a stream cut off mid-way just ends).
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
        catch (Exception e) when (DatabaseAvailability.IsUnavailable(e) && !http.Response.HasStarted)
        {
            log.LogWarning("Read request {Path} answered 503, database unreachable: {Error}", http.Request.Path.Value, e.Message);
            http.Response.Headers.RetryAfter = options.Value.RetryAfterSeconds.ToString();
            return TypedResults.Problem("The event database cannot be reached; the events are safe and ingestion goes on. Retry later.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Database unavailable");
        }
    }
}
