namespace Ingest.Worker.Persistence;

/// <summary>What a batch's write did: rows inserted, duplicates skipped, events quarantined.</summary>
public sealed record WriteResult(int Inserted, int Duplicates, IReadOnlyList<RefusedEvent> Quarantined);
