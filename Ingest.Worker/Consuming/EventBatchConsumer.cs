using System.Diagnostics;
using Ingest.Contracts;
using Ingest.ServiceDefaults.Logging;
using Ingest.Worker.Persistence;
using MassTransit;

namespace Ingest.Worker.Consuming;

/// <summary>
/// Consumes batches of broker messages and stores their events in one transaction. The messages are acknowledged
/// only when this returns, that is after the commit. It throws only when the worker stops (cancellation requeues the
/// batch): <see cref="TransactionRunner"/>, the host's <see cref="IEventBatchStore"/>, retries every other failure, so no
/// readable message reaches the error queue.
/// </summary>
public sealed class EventBatchConsumer(IEventBatchStore store, ILogger<EventBatchConsumer> log) : IConsumer<Batch<EventBatch>>
{
    public async Task Consume(ConsumeContext<Batch<EventBatch>> context)
    {
        var events = new List<AnalyticsEvent>(context.Message.Sum(m => m.Message.Events.Count));
        foreach (var message in context.Message)
            events.AddRange(message.Message.Events);

        // The transaction continues the first message's trace; TraceIds names every request it stores, so ops find
        // a request's transaction in Seq from the request's trace id.
        using var activity = IngestTracing.StartFor("ingest transaction", ActivityKind.Consumer,
            context.Message.Select(m => m.Headers.Get<string>(IngestTracing.ActivityIdHeader)));
        var traceIds = context.Message.SelectMany(m => (m.Headers.Get<string>(IngestHeaders.TraceIds) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).Distinct().ToArray();
        using var scope = log.BeginScope(new Dictionary<string, object> { ["TraceIds"] = traceIds });
        await store.WriteAsync(context.Message.Length, events, context.CancellationToken);
    }
}
