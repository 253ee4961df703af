namespace Ingest.Contracts;

/// <summary>The headers Ingest.Api sets on an <see cref="EventBatch"/> message, beside MassTransit's own (MassTransit.MessageHeaders).</summary>
public static class IngestHeaders
{
    /// <summary>The trace id of every request whose events the message carries, comma-separated.</summary>
    public const string TraceIds = "Ingest-Trace-Ids";
}
