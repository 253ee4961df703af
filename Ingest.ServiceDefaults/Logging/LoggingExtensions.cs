using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;

namespace Ingest.ServiceDefaults.Logging;

public static class LoggingExtensions
{
    /// <summary>
    /// Serilog as the only logging provider, configured from the "Serilog" section (levels, sinks) and enriched
    /// with the service, host, version and environment.
    /// </summary>
    public static IHostApplicationBuilder AddIngestLogging(this IHostApplicationBuilder builder, string service)
    {
        var version = typeof(LoggingExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";
        var logger = new LoggerConfiguration()
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Service", service)
            .Enrich.WithProperty("Host", Environment.MachineName)
            .Enrich.WithProperty("Version", version)
            .Enrich.WithProperty("Environment", builder.Environment.EnvironmentName)
            .CreateLogger();
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(logger, dispose: true);
        return builder;
    }
}
