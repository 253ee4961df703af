using Ingest.Broker;
using Ingest.Worker.Persistence;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serilog.Core;

namespace Ingest.Worker.Consuming;

public static class EventConsumerExtensions
{
    /// <summary>
    /// The batch consumer on the queue of <see cref="BrokerOptions"/>, with no MassTransit retry (Polly in
    /// <see cref="TransactionRunner"/> owns retries), and a shutdown that gives the batch in hand
    /// <see cref="WorkerOptions.ConsumerStopTimeout"/> to commit before it is abandoned unacknowledged. A message that
    /// cannot be read is logged by <see cref="UnreadableMessageLog"/>, without its body, instead of by MassTransit.
    /// </summary>
    public static IHostApplicationBuilder AddEventConsumer(this IHostApplicationBuilder builder)
    {
        var broker = builder.AddBrokerOptions();
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<UnnestInsert>();
        builder.Services.AddSingleton<CopyInsert>();
        builder.Services.AddSingleton<OneByOneInsert>();
        builder.Services.AddSingleton<EventWriter>();
        builder.Services.AddSingleton<TransactionLog>();
        builder.Services.AddSingleton<WriteRateLimiter>();
        builder.Services.AddSingleton<IEventBatchStore, TransactionRunner>();
        builder.Services.AddSingleton<ConsumerPause>();
        builder.Services.AddReceiveObserver<UnreadableMessageLog>();
        builder.Services.AddSingleton<ILogEventFilter, UnreadableMessageFaultFilter>();
        builder.Services.AddOptions<MassTransitHostOptions>().Configure<IOptions<WorkerOptions>>((host, worker) =>
        {
            host.WaitUntilStarted = true;
            host.ConsumerStopTimeout = worker.Value.ConsumerStopTimeout;
            host.StopTimeout = worker.Value.ConsumerStopTimeout + TimeSpan.FromSeconds(10);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromMinutes(1));
        builder.Services.AddMassTransit(x =>
        {
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false); // on premises: nothing leaves for MassTransit's usage telemetry
            x.AddConsumer<EventBatchConsumer, EventBatchConsumerDefinition>();
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker);
                cfg.ConfigureJsonSerializerOptions(EventBatchSerialization.Configure);
                // MassTransit declares _error (and _skipped) with the queue's arguments: the same type, but no delivery
                // limit or dead-lettering of their own (listing dead letters returns them to the queue each time).
                var mainQueueOnly = broker.QueueArguments().Keys.Except(broker.ErrorQueueArguments().Keys).ToList();
                cfg.SendTopology.ConfigureErrorSettings = s => mainQueueOnly.ForEach(key => s.SetQueueArgument(key, null!));
                cfg.SendTopology.ConfigureDeadLetterSettings = s => mainQueueOnly.ForEach(key => s.SetQueueArgument(key, null!));
                cfg.ReceiveEndpoint(broker.Queue, e =>
                {
                    // Exactly what QueueDeclaration declared, or RabbitMQ refuses the declaration.
                    foreach (var (key, value) in broker.QueueArguments())
                        e.SetQueueArgument(key, value);
                    // Past the delivery limit RabbitMQ moves a message to _error, declared here at start: a dead-letter
                    // exchange that does not exist yet would drop it.
                    if (broker.DeliveryLimit is not null)
                        e.BindDeadLetterQueue(broker.ErrorQueue, broker.ErrorQueue, q =>
                        {
                            foreach (var (key, value) in broker.ErrorQueueArguments())
                                q.SetQueueArgument(key, value);
                        });
                    e.ConfigureConsumer<EventBatchConsumer>(context);
                    e.ConnectReceiveEndpointObserver(context.GetRequiredService<ConsumerPause>());
                });
            });
        });
        return builder;
    }
}
