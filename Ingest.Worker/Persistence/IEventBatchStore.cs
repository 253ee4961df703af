using Ingest.Contracts;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Where the consumer stores a batch: <see cref="TransactionRunner"/> in the host. An interface so the contract tests
/// run the real <see cref="Consuming.EventBatchConsumer"/> on MassTransit's test harness without PostgreSQL.
/// </summary>
public interface IEventBatchStore
{
    /// <summary>Returns once the events are committed; throws only when <paramref name="ct"/> is cancelled.</summary>
    Task<WriteResult> WriteAsync(int brokerMessages, IReadOnlyList<AnalyticsEvent> events, CancellationToken ct);
}
