using System.Diagnostics;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
        var version = typeof(LoggingExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";
        var environment = builder.Environment.EnvironmentName;
        builder.Services.AddSerilog((services, lc) => lc
            .ReadFrom.Configuration(services.GetRequiredService<IConfiguration>())
            .ReadFrom.Services(services)
            .Enrich.WithProperty("Service", service)
            .Enrich.WithProperty("Host", Environment.MachineName)
            .Enrich.WithProperty("Version", version)
            .Enrich.WithProperty("Environment", environment));
        return builder;
    }

    /// <summary>
    /// Serilog.AspNetCore's request log, first in the pipeline: one event per request, at a level by outcome and
    /// duration: Error for an exception or a 5xx other than 503, Warning for 503, 4xx and requests slower than
    /// <c>Ingest:Logging:SlowRequestMs</c> (500), Debug for the fast 2xx and 3xx, so that at the default Information
    /// they cost a level check, not an event. Headers, bodies and the query string (writeKey) are not logged.
    /// </summary>
    public static IApplicationBuilder UseIngestRequestLogging(this IApplicationBuilder app)
    {
        var slowMs = app.ApplicationServices.GetRequiredService<IConfiguration>().GetValue("Ingest:Logging:SlowRequestMs", 500.0);
        return app.UseSerilogRequestLogging(options =>
        {
            options.GetLevel = (http, elapsedMs, exception) => RequestLevel(http.Response.StatusCode, elapsedMs, exception, slowMs);
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

/// <summary>
/// Makes the trace id travel. ASP.NET Core starts an Activity per request; MassTransit 8 creates its send and
/// consume activities from its "MassTransit" ActivitySource only when something listens to it (no OpenTelemetry
/// here), and then carries the sender's trace context in the MT-Activity-Id header and restores it as the parent of
/// the consumer's activity. This listener asks for propagation data only (ids, no tags): cheap, and enough for the
/// CLEF @tr/@sp of the API's request log and of the worker's log events to share the trace id.
/// <para>
/// One broker message carries the events of several requests (group commit) and one transaction stores several
/// messages (batch consumer), so one trace id cannot cover them all: <see cref="StartFor"/> continues the first
/// trace and links the others, and <see cref="TraceIds"/> gives all of them for a TraceIds log property.
/// </para>
/// </summary>
public static class IngestTracing
{
    /// <summary>The header MassTransit 8 writes the sending activity's W3C id (traceparent form) to.</summary>
    public const string ActivityIdHeader = "MT-Activity-Id";

    static readonly ActivitySource Source = new("Ingest");

    static readonly Lazy<ActivityListener> Listener = new(() =>
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "MassTransit" or "Microsoft.AspNetCore" or "Ingest",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    });

    public static void Start() => _ = Listener.Value;

    /// <summary>
    /// Starts an activity continuing the first of <paramref name="traceParents"/> (W3C ids such as Activity.Id or the
    /// MT-Activity-Id header of each message in a batch) and linking the rest; with none, a child of Activity.Current.
    /// Log inside it and the events carry that trace id.
    /// </summary>
    public static Activity? StartFor(string name, ActivityKind kind, IEnumerable<string?> traceParents)
    {
        var contexts = Parse(traceParents);
        return Source.StartActivity(name, kind, contexts.Count > 0 ? contexts[0] : default, links: contexts.Skip(1).Select(c => new ActivityLink(c)));
    }

    /// <summary>The distinct trace ids among <paramref name="traceParents"/>, in order.</summary>
    public static string[] TraceIds(IEnumerable<string?> traceParents) =>
        [.. Parse(traceParents).Select(c => c.TraceId.ToHexString()).Distinct()];

    static List<ActivityContext> Parse(IEnumerable<string?> traceParents) =>
        [.. traceParents.Select(p => p is not null && ActivityContext.TryParse(p, null, out var context) ? context : default).Where(c => c != default)];
}
