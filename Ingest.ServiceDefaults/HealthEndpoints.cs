using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ingest.ServiceDefaults;

/// <summary>
/// /health/live answers while the process runs; /health/ready runs the checks tagged "ready" (the broker,
/// and on the worker the database). Both name the host and the version, so a load balancer's log says which
/// instance answered.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app, string service)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write(service) });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResponseWriter = Write(service),
            // A degraded bus (reconnecting) is not ready to take traffic.
            ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable },
        });
        return app;
    }

    static Func<HttpContext, HealthReport, Task> Write(string service) => (context, report) =>
        context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            service,
            host = Environment.MachineName,
            version = ServiceVersion.Current,
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        });
}
