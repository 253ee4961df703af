using System.Diagnostics;

namespace Ingest.Api;

public static class ProblemResponses
{
    /// <summary>RFC 9457 problem details for every error, each carrying the trace id to find it in the logs.</summary>
    public static IHostApplicationBuilder AddProblemResponses(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier);
        return builder;
    }
}
