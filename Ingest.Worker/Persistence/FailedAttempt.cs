namespace Ingest.Worker.Persistence;

/// <summary>An attempt that failed; when the database was down it could not be logged there, so the next successful attempt records it.</summary>
public sealed record FailedAttempt(int Attempt, DateTime StartedAt, DateTime FailedAt, string Error);
