using Ingest.Worker.Persistence;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ingest.Worker.Consuming;

/// <summary>Batch size, time limit, concurrency and prefetch, from <see cref="WorkerOptions"/>.</summary>
public sealed class EventBatchConsumerDefinition(IOptions<WorkerOptions> options) : ConsumerDefinition<EventBatchConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<EventBatchConsumer> consumerConfigurator, IRegistrationContext context)
    {
        var worker = options.Value;
        endpointConfigurator.PrefetchCount = worker.PrefetchCount;
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(worker.MessageLimit)
            .SetTimeLimit(worker.TimeLimit)
            .SetConcurrencyLimit(worker.ConcurrencyLimit));
    }
}
