using Ingest.Api.Keys;

namespace Ingest.Api.Tracking;

/// <summary>
/// The write side: Segment's HTTP Tracking API (so Segment's libraries work unchanged), its browser library's short
/// paths, and the seeds' older /analytics format. A 200 means every accepted event is on the broker's disk.
/// </summary>
public static class TrackingApi
{
    public sealed record Success(bool success = true);

    static readonly Dictionary<string, string> ShortPaths = new() { ["t"] = "track", ["i"] = "identify", ["p"] = "page", ["s"] = "screen", ["g"] = "group", ["a"] = "alias" };

    public static IEndpointRouteBuilder MapTracking(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapWriteGroup("/v1", "Tracking");
        foreach (var type in SegmentMessage.Types)
            v1.MapPost($"/{type}", (HttpContext http, Ingestion ingestion) => ingestion.SingleAsync(http, type)).WithName(type);
        foreach (var (path, type) in ShortPaths)
            v1.MapPost($"/{path}", (HttpContext http, Ingestion ingestion) => ingestion.SingleAsync(http, type)).ExcludeFromDescription();
        v1.MapPost("/batch", (HttpContext http, Ingestion ingestion) => ingestion.BatchAsync(http)).WithName("batch");
        v1.MapPost("/b", (HttpContext http, Ingestion ingestion) => ingestion.BatchAsync(http)).ExcludeFromDescription();

        // Routing ignores a trailing slash, so this serves /analytics/ too.
        app.MapWriteGroup("/analytics", "Legacy").MapPost("", (HttpContext http, Ingestion ingestion) => ingestion.LegacyAsync(http)).WithName("analytics");
        return app;
    }

    /// <summary>
    /// A group behind the write policy, with every answer a write can give besides 200 and the 400 of its messages:
    /// a refused key (401, 403, and 503 until keys are loaded), a body too large (413) or not JSON (415), a source
    /// over its rate (429), the broker down (503).
    /// </summary>
    static RouteGroupBuilder MapWriteGroup(this IEndpointRouteBuilder app, string prefix, string tag) =>
        (RouteGroupBuilder)app.MapGroup(prefix).WithTags(tag)
            .RequireAuthorization(KeyAuthentication.Write)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}
