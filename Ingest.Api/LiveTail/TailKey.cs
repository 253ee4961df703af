namespace Ingest.Api.LiveTail;

/// <summary>The columns before a row's own in the live tail's queries.</summary>
public sealed class TailKey
{
    public long XactId { get; init; }
    public required string SourceId { get; init; }
}
