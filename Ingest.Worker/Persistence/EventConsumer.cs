using Ingest.Contracts;
using Ingest.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Consumes batches of broker messages and stores their events in one transaction. The messages are acknowledged
/// only when this returns, that is after the commit; a throw leaves them to MassTransit: cancellation at shutdown
/// requeues them, a non-transient failure that is not the data's moves them to the error queue.
/// </summary>
public sealed class EventBatchConsumer(TransactionRunner runner) : IConsumer<Batch<EventBatch>>
{
    public async Task Consume(ConsumeContext<Batch<EventBatch>> context)
    {
        var events = new List<AnalyticsEvent>(context.Message.Sum(m => m.Message.Events.Count));
        foreach (var message in context.Message)
            events.AddRange(message.Message.Events);
        await runner.WriteAsync(context.Message.Length, events, context.CancellationToken);
    }
}

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

public static class EventConsumerExtensions
{
    /// <summary>
    /// The batch consumer on the queue of <see cref="BrokerOptions"/>, with no MassTransit retry (Polly in
    /// <see cref="TransactionRunner"/> owns retries), and a shutdown that gives the batch in hand
    /// <see cref="WorkerOptions.ConsumerStopTimeout"/> to commit before it is abandoned unacknowledged.
    /// </summary>
    public static IHostApplicationBuilder AddEventConsumer(this IHostApplicationBuilder builder)
    {
        var broker = builder.AddBrokerOptions();
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EventWriter>();
        builder.Services.AddSingleton<WriteRateLimiter>();
        builder.Services.AddSingleton<TransactionRunner>();
        builder.Services.AddOptions<MassTransitHostOptions>().Configure<IOptions<WorkerOptions>>((host, worker) =>
        {
            host.WaitUntilStarted = true;
            host.ConsumerStopTimeout = worker.Value.ConsumerStopTimeout;
            host.StopTimeout = worker.Value.ConsumerStopTimeout + TimeSpan.FromSeconds(10);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromMinutes(1));
        builder.Services.AddMassTransit(x =>
        {
            x.AddConsumer<EventBatchConsumer, EventBatchConsumerDefinition>();
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker);
                cfg.ReceiveEndpoint(broker.Queue, e => e.ConfigureConsumer<EventBatchConsumer>(context));
            });
        });
        return builder;
    }
}
