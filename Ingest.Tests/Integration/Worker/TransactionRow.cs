namespace Ingest.Tests.Integration.Worker;

public sealed record TransactionRow(Guid Id, string Status, int BrokerMessages, int Events, int Inserted, int Duplicates, int Quarantined, int Attempt, string? Error);
