using System.Diagnostics;

namespace Ingest.Api;

public static class ProblemResponses
{
    /// <summary>RFC 9457 problem details for every error, each carrying the trace id to find it in the logs.</summary>
    public static IHostApplicationBuilder AddProblemResponses(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier);
        // Kestrel's verdict on a broken request (a body arriving too slowly, a bad chunk) keeps its own 4xx, never a 500.
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError);
        return builder;
    }
}
