using System.ComponentModel.DataAnnotations;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>The request log's levels (section Ingest:Logging), for <see cref="LoggingExtensions.UseIngestRequestLogging"/>. Serilog's own settings are the "Serilog" section.</summary>
public sealed class LoggingOptions
{
    public const string Section = "Ingest:Logging";

    /// <summary>A request slower than this many milliseconds is logged at Warning, whatever its status.</summary>
    [Range(0, double.MaxValue)] public double SlowRequestMs { get; set; } = 500;

    /// <summary>How many 4xx a second are logged at Warning; past it they are Debug, and counted (<see cref="ClientErrorLogBudget"/>).</summary>
    [Range(0, int.MaxValue)] public int ClientErrorsPerSecond { get; set; } = 20;
}
