namespace Ingest.Worker.Persistence;

/// <summary>One attempt at writing a batch: the transaction's id stays the same across attempts, each attempt has its number.</summary>
public sealed record TransactionAttempt(Guid TransactionId, string WorkerHost, int BrokerMessages, int Attempt, DateTime StartedAt, FailedAttempt? UnrecordedFailure);
