using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Debugging;
using Serilog.Events;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>Console and rolling files (section <c>Ingest:Logging</c>). The Seq sink has its own section, <see cref="SeqSinkOptions"/>.</summary>
public sealed class LoggingOptions
{
    public const string Section = "Ingest:Logging";

    public ConsoleLogOptions Console { get; set; } = new();
    public FileLogOptions File { get; set; } = new();

    /// <summary>Serilog's own failures (a sink that cannot reach Seq, a full queue) go to standard error.</summary>
    public bool SelfLogToStandardError { get; set; } = true;
}

public enum LogFormat { Text, Clef }

public sealed class ConsoleLogOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Text (for people) or Clef (one JSON object a line, for collectors). Unset: Text in Development, Clef elsewhere.</summary>
    public LogFormat? Format { get; set; }
}

public sealed class FileLogOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Relative to the content root; "{service}" is replaced. The date goes before the extension: logs/ingest-api-20261122.log.</summary>
    [Required] public string Path { get; set; } = "logs/{service}-.log";

    [Range(1, 10_000)] public int RetainedFileCountLimit { get; set; } = 14;
    [Range(1024, long.MaxValue)] public long FileSizeLimitBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>CLEF by default, so a file can be replayed into Seq (seqcli ingest) when Seq was unreachable.</summary>
    public LogFormat Format { get; set; } = LogFormat.Clef;
}

public static class LoggingExtensions
{
    const string TextTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Serilog as the only logging provider: levels from the "Serilog" section (and any extra sinks listed there),
    /// console, rolling files and Seq from <see cref="LoggingOptions"/> and <see cref="SeqSinkOptions"/>, every event
    /// enriched with Service, Host, Version and Environment. The logger, and with it the Seq sink's queue or buffer,
    /// is flushed and disposed when the host's services are disposed at shutdown.
    /// </summary>
    public static IHostApplicationBuilder AddIngestLogging(this IHostApplicationBuilder builder, string service)
    {
        var options = Bind<LoggingOptions>(builder.Configuration, LoggingOptions.Section);
        Validate(options.File, LoggingOptions.Section + ":File");
        var seq = Bind<SeqSinkOptions>(builder.Configuration, SeqSinkOptions.Section);
        if (!string.IsNullOrWhiteSpace(seq.ServerUrl)) Validate(seq, SeqSinkOptions.Section);

        if (options.SelfLogToStandardError) SelfLog.Enable(System.Console.Error);
        IngestTracing.Start();

        var version = typeof(LoggingExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";
        LogEventProperty[] identity =
        [
            new("Service", new ScalarValue(service)),
            new("Host", new ScalarValue(Environment.MachineName)),
            new("Version", new ScalarValue(version)),
            new("Environment", new ScalarValue(builder.Environment.EnvironmentName)),
        ];

        var configuration = new LoggerConfiguration()
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext();
        foreach (var property in identity) configuration.Enrich.WithProperty(property.Name, ((ScalarValue)property.Value).Value);

        if (options.Console.Enabled)
        {
            var format = options.Console.Format ?? (builder.Environment.IsDevelopment() ? LogFormat.Text : LogFormat.Clef);
            if (format == LogFormat.Clef) configuration.WriteTo.Console(new ClefFormatter(renderMessage: true));
            else configuration.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }

        if (options.File.Enabled)
        {
            var path = Path.Combine(builder.Environment.ContentRootPath, options.File.Path.Replace("{service}", service, StringComparison.Ordinal));
            if (options.File.Format == LogFormat.Clef)
                configuration.WriteTo.File(new ClefFormatter(renderMessage: true), path, rollingInterval: RollingInterval.Day,
                    retainedFileCountLimit: options.File.RetainedFileCountLimit, fileSizeLimitBytes: options.File.FileSizeLimitBytes,
                    rollOnFileSizeLimit: true, buffered: true, flushToDiskInterval: TimeSpan.FromSeconds(1));
            else
                configuration.WriteTo.File(path, outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                    rollingInterval: RollingInterval.Day, retainedFileCountLimit: options.File.RetainedFileCountLimit,
                    fileSizeLimitBytes: options.File.FileSizeLimitBytes, rollOnFileSizeLimit: true, buffered: true,
                    flushToDiskInterval: TimeSpan.FromSeconds(1));
        }

        if (!string.IsNullOrWhiteSpace(seq.ServerUrl))
        {
            if (seq.BufferPath is not null) seq.BufferPath = Path.Combine(builder.Environment.ContentRootPath, seq.BufferPath.Replace("{service}", service, StringComparison.Ordinal));
            configuration.WriteTo.Sink(new SeqSink(seq, identity));
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(configuration.CreateLogger(), dispose: true);
        return builder;
    }

    static T Bind<T>(IConfiguration configuration, string section) where T : new() =>
        configuration.GetSection(section).Get<T>() ?? new T();

    /// <summary>A bad setting stops the host at start, naming the setting.</summary>
    static void Validate(object options, string section)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)) return;
        throw new OptionsValidationException(section, string.Join("; ", results.Select(r => $"{section}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}")));
    }
}

/// <summary>A bad logging setting, named by its configuration key.</summary>
public sealed class OptionsValidationException(string section, string message) : Exception($"Invalid configuration in {section}: {message}")
{
    public string Section { get; } = section;
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
