using Ingest.Api.Keys;
using Ingest.Api.ReadSide;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Api.Operations;

/// <summary>GET /v1/pipeline: <see cref="PipelineHealth"/> for a read key.</summary>
public static class PipelineApi
{
    public static IEndpointRouteBuilder MapPipeline(this IEndpointRouteBuilder app)
    {
        // Not MapReadGroup: a database that is down is part of this answer, not a 503.
        app.MapGroup("/v1").WithTags("Pipeline").RequireAuthorization(KeyAuthentication.Read)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .MapGet("/pipeline", GetAsync).WithName("getPipeline");
        return app;
    }

    static Task<Ok<PipelineHealth.Health>> GetAsync(PipelineHealth pipeline, CancellationToken ct) => pipeline.GetAsync(ct);
}
