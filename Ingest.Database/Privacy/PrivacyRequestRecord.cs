namespace Ingest.Database.Privacy;

/// <summary>A privacy request as its audit record holds it: what was asked, by which key, its status and its receipt.</summary>
public sealed record PrivacyRequestRecord(
    Guid Id,
    string SourceId,
    string KeyPrefix,
    string Type,
    string Status,
    string? Reason,
    int Subjects,
    DateTime RequestedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    long RemovedEvents,
    long RemovedQuarantined,
    long RemovedDeadLetters);
