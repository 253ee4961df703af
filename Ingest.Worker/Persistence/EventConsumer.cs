using Ingest.Contracts;
using Ingest.ServiceDefaults;
using MassTransit;

namespace Ingest.Worker.Persistence;

/// <summary>Consumes batches of broker messages and stores their events in one transaction.</summary>
public sealed class EventBatchConsumer(EventWriter writer) : IConsumer<Batch<EventBatch>>
{
    public async Task Consume(ConsumeContext<Batch<EventBatch>> context)
    {
        var events = context.Message.SelectMany(m => m.Message.Events).ToList();
        await writer.WriteAsync(context.Message.Length, events, context.CancellationToken);
    }
}

public static class EventConsumerExtensions
{
    public static IHostApplicationBuilder AddEventConsumer(this IHostApplicationBuilder builder)
    {
        var broker = builder.AddBrokerOptions();
        builder.Services.AddSingleton<EventWriter>();
        builder.Services.AddMassTransit(x =>
        {
            x.AddConsumer<EventBatchConsumer>(c => c.Options<BatchOptions>(o => o.SetMessageLimit(50).SetTimeLimit(TimeSpan.FromMilliseconds(50)).SetConcurrencyLimit(2)));
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker);
                cfg.ReceiveEndpoint(broker.Queue, e =>
                {
                    e.PrefetchCount = 200;
                    e.ConfigureConsumer<EventBatchConsumer>(context);
                });
            });
        });
        return builder;
    }
}
