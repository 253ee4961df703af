namespace Ingest.Api.Tracking;

/// <summary>A request refused before its messages are read: the status and the problem's words.</summary>
public sealed record Refusal(int Status, string Title, string Detail);
