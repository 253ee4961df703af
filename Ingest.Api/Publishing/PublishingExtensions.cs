using Ingest.Broker;
using MassTransit;

namespace Ingest.Api.Publishing;

public static class PublishingExtensions
{
    /// <summary>MassTransit on RabbitMQ with publisher confirms, and the group-commit publisher.</summary>
    public static IHostApplicationBuilder AddEventPublishing(this IHostApplicationBuilder builder)
    {
        var broker = builder.AddBrokerOptions();
        builder.Services.AddOptions<PublishOptions>().BindConfiguration(PublishOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddMassTransit(x =>
        {
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false); // on premises: nothing leaves for MassTransit's usage telemetry
            x.UsingRabbitMq((_, cfg) => cfg.Host(broker));
        });
        builder.Services.AddSingleton<EventPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EventPublisher>());
        return builder;
    }
}
