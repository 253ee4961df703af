using Serilog.Core;
using Serilog.Events;

namespace Ingest.Worker.Consuming;

/// <summary>
/// Drops MassTransit's R-FAULT event for a message that cannot be deserialized: its exception quotes the body
/// (personal data). <see cref="UnreadableMessageLog"/> logs the fault instead, without it. Other R-FAULTs, and every
/// other MassTransit event, pass. Serilog takes it from the services (<c>ReadFrom.Services</c> in AddIngestLogging).
/// </summary>
public sealed class UnreadableMessageFaultFilter : ILogEventFilter
{
    public bool IsEnabled(LogEvent logEvent) =>
        !(logEvent.MessageTemplate.Text.StartsWith("R-FAULT", StringComparison.Ordinal) && logEvent.Exception is { } e && UnreadableMessageLog.IsUnreadable(e));
}
