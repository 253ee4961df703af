using System.Collections.Concurrent;
using System.Text.Json;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Ingest.Tests.Integration.Logging;

/// <summary>What Serilog.Formatting.Compact writes (the format of the console, the files and Seq), kept to read back.</summary>
sealed class ClefSink : ILogEventSink
{
    readonly CompactJsonFormatter _formatter = new();
    public ConcurrentQueue<JsonElement> Events { get; } = new();

    public void Emit(LogEvent logEvent)
    {
        var line = new StringWriter();
        _formatter.Format(logEvent, line);
        Events.Enqueue(JsonDocument.Parse(line.ToString()).RootElement);
    }
}
