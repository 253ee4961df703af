using System.ComponentModel.DataAnnotations;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ingest.ServiceDefaults;

/// <summary>The RabbitMQ connection and the queue the API sends to and the worker consumes (section Ingest:Broker).</summary>
public sealed class BrokerOptions
{
    public const string Section = "Ingest:Broker";

    [Required] public string Host { get; set; } = "127.0.0.1";
    [Range(1, 65535)] public int Port { get; set; } = 5672;
    [Required] public string VirtualHost { get; set; } = "/";
    [Required] public string Username { get; set; } = "guest";
    [Required] public string Password { get; set; } = "guest";

    /// <summary>The durable queue that carries <c>EventBatch</c> messages.</summary>
    [Required] public string Queue { get; set; } = "ingest-events";
}

public static class BrokerExtensions
{
    public static BrokerOptions AddBrokerOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BrokerOptions>().BindConfiguration(BrokerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder.Configuration.GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
    }

    public static void Host(this IRabbitMqBusFactoryConfigurator cfg, BrokerOptions broker) =>
        cfg.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, h =>
        {
            h.Username(broker.Username);
            h.Password(broker.Password);
            h.PublisherConfirmation = true;
            h.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
        });
}
