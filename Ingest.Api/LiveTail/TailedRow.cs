using Ingest.Api.Events;

namespace Ingest.Api.LiveTail;

/// <summary>A stored row in the order of the live tail, (xact_id, id).</summary>
public sealed record TailedRow(long XactId, string SourceId, EventRow Row);
