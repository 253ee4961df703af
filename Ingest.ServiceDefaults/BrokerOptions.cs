using System.ComponentModel.DataAnnotations;
using System.Net.Sockets;
using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
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
        builder.Services.AddHealthChecks().AddCheck<BrokerReachableCheck>("rabbitmq", tags: [HealthEndpoints.ReadyTag]);
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

/// <summary>
/// The broker answers on its port. MassTransit's own bus check stays healthy on a bus without receive endpoints (the
/// API's) while the broker is gone, so readiness asks the broker itself.
/// </summary>
sealed class BrokerReachableCheck(IOptions<BrokerOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var broker = options.Value;
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(broker.Host, broker.Port, timeout.Token);
            return HealthCheckResult.Healthy($"{broker.Host}:{broker.Port} answers");
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{broker.Host}:{broker.Port} does not answer: {e.Message}");
        }
    }
}
