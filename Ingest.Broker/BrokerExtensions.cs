using Ingest.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;

namespace Ingest.Broker;

public static class BrokerExtensions
{
    /// <summary>The broker settings, its readiness check, and <see cref="QueueDeclaration"/>, which must run before MassTransit starts (register this first).</summary>
    public static BrokerOptions AddBrokerOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BrokerOptions>().BindConfiguration(BrokerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHealthChecks().AddCheck<BrokerReachableCheck>("rabbitmq", tags: [HealthEndpoints.ReadyTag]);
        builder.Services.AddHostedService<QueueDeclaration>();
        return builder.Configuration.GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
    }

    public static void Host(this IRabbitMqBusFactoryConfigurator cfg, BrokerOptions broker) =>
        cfg.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, h =>
        {
            h.Username(broker.Username);
            h.Password(broker.Password);
            h.PublisherConfirmation = true;
            h.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
            // Each (re)connection tries the next node in turn: losing a node means reconnecting to another.
            if (broker.Nodes.Count > 0)
                h.UseCluster(c => broker.Nodes.ForEach(c.Node));
        });

    /// <summary>A RabbitMQ.Client connection to the first node that answers (for what MassTransit does not do).</summary>
    public static async Task<IConnection> ConnectAsync(this BrokerOptions broker, string name, CancellationToken ct)
    {
        var factory = new ConnectionFactory
        {
            VirtualHost = broker.VirtualHost,
            UserName = broker.Username,
            Password = broker.Password,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
        };
        return await factory.CreateConnectionAsync(broker.Endpoints(), name, ct);
    }
}
