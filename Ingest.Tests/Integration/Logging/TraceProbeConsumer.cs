using Ingest.Tests.Integration.Logging.Probes;
using MassTransit;

namespace Ingest.Tests.Integration.Logging;

sealed class TraceProbeConsumer : IConsumer<TraceProbe>
{
    public Task Consume(ConsumeContext<TraceProbe> context)
    {
        When_a_message_crosses_the_broker.Log.Information("Consumed probe for {Test}", context.Message.Test);
        return Task.CompletedTask;
    }
}
