using System.Collections.Concurrent;
using Ingest.Contracts;
using Ingest.Worker.Persistence;

namespace Ingest.Tests.Contracts;

/// <summary>Stands in for the worker's <see cref="TransactionRunner"/>: keeps what the consumer would have committed.</summary>
public sealed class CapturedEventBatchStore : IEventBatchStore
{
    readonly ConcurrentQueue<AnalyticsEvent> _events = new();

    public IReadOnlyList<AnalyticsEvent> Events => [.. _events];

    public Task<WriteResult> WriteAsync(int brokerMessages, IReadOnlyList<AnalyticsEvent> events, CancellationToken ct)
    {
        foreach (var e in events) _events.Enqueue(e);
        return Task.FromResult(new WriteResult(events.Count, 0, []));
    }
}
