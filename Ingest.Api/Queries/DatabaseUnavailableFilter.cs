using System.Text;
using Ingest.Api.Keys;
using Ingest.Database;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ingest.Api.Queries;

/// <summary>
/// The gate of every read endpoint: a read key (Bearer, or HTTP Basic with the key as user name) whose source becomes
/// the request's source; a write key is refused with 403. Then, while PostgreSQL is unreachable, 503 with Retry-After
/// instead of a 500 (only before the response has started: a stream cut off mid-way just ends).
/// </summary>
public sealed class ReadAccess(KeyStore keys, IOptions<QueryOptions> options, ILogger<ReadAccess> log) : IEndpointFilter
{
    const string SourceItem = "ReadSourceId";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var presented = KeyStore.FromAuthorizationHeader(http.Request);
        if (string.IsNullOrEmpty(presented))
            return TypedResults.Problem("Send a read key as a Bearer token or as the HTTP Basic user name.", statusCode: 401, title: "Missing read key");
        if (!keys.IsLoaded)
            return Unavailable(http, "Keys not loaded yet", "The API has not loaded its keys yet; retry shortly.");
        var key = keys.Find(presented);
        if (key is null)
            return TypedResults.Problem("The read key is not known or was revoked.", statusCode: 401, title: "Unknown read key");
        if (key.Scope != "read")
            return TypedResults.Problem("This key is a write key; the read side needs a read key of the same source.", statusCode: 403, title: "Not a read key");
        http.Items[SourceItem] = key.SourceId;
        try
        {
            return await next(context);
        }
        catch (Exception e) when (DatabaseAvailability.IsUnavailable(e) && !http.Response.HasStarted)
        {
            log.LogWarning("Read request {Path} answered 503, database unreachable: {Error}", http.Request.Path.Value, e.Message);
            return Unavailable(http, "Database unavailable", "The event database cannot be reached; the events are safe and ingestion goes on. Retry later.");
        }
    }

    /// <summary>The source of the read key that <see cref="ReadAccess"/> accepted for this request.</summary>
    public static string SourceOf(HttpContext http) => (string)http.Items[SourceItem]!;

    ProblemHttpResult Unavailable(HttpContext http, string title, string detail)
    {
        http.Response.Headers.RetryAfter = options.Value.RetryAfterSeconds.ToString();
        return TypedResults.Problem(detail, statusCode: 503, title: title);
    }
}
