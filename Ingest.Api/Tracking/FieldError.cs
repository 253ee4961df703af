namespace Ingest.Api.Tracking;

/// <summary>A field of a message and why it was refused.</summary>
public sealed record FieldError(string Field, string Reason);
