using System.Diagnostics;
using Ingest.ServiceDefaults.Logging;
using Ingest.Tests.Integration.Logging.Probes;
using MassTransit;

namespace Ingest.Tests.Integration.Logging;

sealed class TraceBatchProbeConsumer : IConsumer<Batch<TraceBatchProbe>>
{
    public Task Consume(ConsumeContext<Batch<TraceBatchProbe>> context)
    {
        // What the worker does per transaction: continue the first message's trace, list them all.
        var parents = context.Message.Select(m => m.Headers.Get<string>(IngestTracing.ActivityIdHeader)).ToList();
        using var activity = IngestTracing.StartFor("ingest transaction", ActivityKind.Consumer, parents);
        When_a_message_crosses_the_broker.Log.Information("Committed {EventCount} events {TraceIds}", context.Message.Length, IngestTracing.TraceIds(parents));
        return Task.CompletedTask;
    }
}
