using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Debugging;
using Serilog.Events;

namespace Ingest.ServiceDefaults.Logging;

public static class LoggingExtensions
{
    /// <summary>The claim of the request's user that holds its source id (the API's key authentication sets it), for the request log.</summary>
    public const string SourceClaim = "source";

    /// <summary>
    /// Serilog as the only logging provider, configured from the "Serilog" section (Serilog.Settings.Configuration:
    /// <c>MinimumLevel</c>, <c>WriteTo</c> with the console, the rolling CLEF files and, when configured, Seq), every
    /// event enriched with Service, Host, Version and Environment. Serilog 4 takes @tr/@sp from Activity.Current; the
    /// logger (and with it Seq's queue or buffer) is flushed and disposed with the host's services at shutdown.
    /// </summary>
    public static IHostApplicationBuilder AddIngestLogging(this IHostApplicationBuilder builder, string service)
    {
        SelfLog.Enable(Console.Error); // a sink's own failures (Seq unreachable, a full queue): standard error
        IngestTracing.Start();
        var environment = builder.Environment.EnvironmentName;
        builder.Services.AddOptions<LoggingOptions>().BindConfiguration(LoggingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSerilog((services, lc) => lc
            .ReadFrom.Configuration(services.GetRequiredService<IConfiguration>())
            .ReadFrom.Services(services)
            .Enrich.WithProperty("Service", service)
            .Enrich.WithProperty("Host", Environment.MachineName)
            .Enrich.WithProperty("Version", ServiceVersion.Current)
            .Enrich.WithProperty("Environment", environment));
        return builder;
    }

    /// <summary>
    /// Serilog.AspNetCore's request log, first in the pipeline: one event per request, at a level by outcome and
    /// duration: Error for an exception or a 5xx other than 503, Warning for 503, 4xx and requests slower than
    /// <see cref="LoggingOptions.SlowRequestMs"/> (500), Debug for the fast 2xx and 3xx, so that at the default Information
    /// they cost a level check, not an event. At most <see cref="LoggingOptions.ClientErrorsPerSecond"/> (20) 4xx a second
    /// are Warnings; the rest are Debug and counted (<see cref="ClientErrorLogBudget"/>). Headers, bodies and the query
    /// string (writeKey) are not logged.
    /// </summary>
    public static IApplicationBuilder UseIngestRequestLogging(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var settings = services.GetRequiredService<IOptions<LoggingOptions>>().Value;
        var slowMs = settings.SlowRequestMs;
        var clientErrors = new ClientErrorLogBudget(settings.ClientErrorsPerSecond,
            services.GetRequiredService<ILoggerFactory>().CreateLogger("Serilog.AspNetCore.RequestLoggingMiddleware"), TimeProvider.System);
        return app.UseSerilogRequestLogging(options =>
        {
            // RequestPath without the query string: it carries the read side's filters (userId, anonymousId, event)
            // and the write key of a beacon. False is the default; said here so that it stays so.
            options.IncludeQueryInRequestPath = false;
            options.GetLevel = (http, elapsedMs, exception) =>
            {
                var level = RequestLevel(http.Response.StatusCode, elapsedMs, exception, slowMs);
                return level == LogEventLevel.Warning && http.Response.StatusCode is >= 400 and < 500 && !clientErrors.TryTake(http.Response.StatusCode)
                    ? LogEventLevel.Debug : level;
            };
            options.EnrichDiagnosticContext = (diagnostics, http) =>
            {
                if (http.User.FindFirst(SourceClaim)?.Value is { } source) diagnostics.Set("SourceId", source);
                if (http.GetEndpoint() is RouteEndpoint endpoint) diagnostics.Set("Route", endpoint.RoutePattern.RawText);
            };
        });
    }

    static LogEventLevel RequestLevel(int status, double elapsedMs, Exception? exception, double slowMs) =>
        exception is not null || status >= 500 && status != StatusCodes.Status503ServiceUnavailable ? LogEventLevel.Error
        : status >= 400 || elapsedMs >= slowMs ? LogEventLevel.Warning
        : LogEventLevel.Debug;
}
