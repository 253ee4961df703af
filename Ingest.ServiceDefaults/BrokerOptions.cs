using System.ComponentModel.DataAnnotations;
using System.Net.Sockets;
using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using ValidationResult = System.ComponentModel.DataAnnotations.ValidationResult;

namespace Ingest.ServiceDefaults;

/// <summary>Classic for a single node; quorum for a cluster, where a queue's messages are replicated to a majority of nodes.</summary>
public enum QueueType
{
    Classic,
    Quorum,
}

/// <summary>The RabbitMQ connection and the queue the API sends to and the worker consumes (section Ingest:Broker).</summary>
public sealed class BrokerOptions : IValidatableObject
{
    public const string Section = "Ingest:Broker";

    [Required] public string Host { get; set; } = "127.0.0.1";
    [Range(1, 65535)] public int Port { get; set; } = 5672;
    [Required] public string VirtualHost { get; set; } = "/";
    [Required] public string Username { get; set; } = "guest";
    [Required] public string Password { get; set; } = "guest";

    /// <summary>The durable queue that carries <c>EventBatch</c> messages.</summary>
    [Required] public string Queue { get; set; } = "ingest-events";

    /// <summary>
    /// The cluster's nodes as host:port, tried in turn on every (re)connection; empty means <see cref="Host"/>:<see cref="Port"/> alone.
    /// </summary>
    public List<string> Nodes { get; set; } = [];

    /// <summary>
    /// The type <see cref="Queue"/> is declared with, by both hosts alike. A queue's type cannot change once it exists:
    /// to move to quorum, use a new <see cref="Queue"/> name (or drain and delete the old queue first).
    /// </summary>
    public QueueType QueueType { get; set; } = QueueType.Classic;

    /// <summary>
    /// Quorum only: after this many deliveries RabbitMQ dead-letters a message to <c>&lt;Queue&gt;_error</c> (at least
    /// once), where the dead-letter commands show and replay it. For a message that crashes the worker process every
    /// time, which no consumer code can catch. Unset by default: RabbitMQ 3.10 counts every return, a stopping or
    /// pausing worker's prefetched messages included, and the worker retries outages for as long as they last.
    /// </summary>
    [Range(1, 1_000_000)] public int? DeliveryLimit { get; set; }

    public string ErrorQueue => $"{Queue}_error";

    /// <summary>The nodes to connect to, in order.</summary>
    public IReadOnlyList<AmqpTcpEndpoint> Endpoints() => Nodes.Count == 0
        ? [new AmqpTcpEndpoint(Host, Port)]
        : Nodes.Select(n => AmqpTcpEndpoint.Parse(n)).ToList();

    /// <summary>
    /// The arguments <see cref="Queue"/> is declared with, the same on both hosts: RabbitMQ refuses a declaration whose
    /// arguments differ from the queue's (PRECONDITION_FAILED).
    /// </summary>
    public Dictionary<string, object?> QueueArguments()
    {
        if (QueueType == QueueType.Classic) return [];
        var arguments = new Dictionary<string, object?> { ["x-queue-type"] = "quorum" };
        if (DeliveryLimit is { } limit)
        {
            arguments["x-delivery-limit"] = limit;
            arguments["x-dead-letter-exchange"] = ErrorQueue;
            // At least once: the message leaves only once _error has it (3.10+; needs reject-publish overflow).
            arguments["x-dead-letter-strategy"] = "at-least-once";
            arguments["x-overflow"] = "reject-publish";
        }
        return arguments;
    }

    /// <summary>The arguments of <see cref="ErrorQueue"/>: the same type as the queue, and nothing that would move messages out of it.</summary>
    public Dictionary<string, object?> ErrorQueueArguments() =>
        QueueType == QueueType.Classic ? [] : new Dictionary<string, object?> { ["x-queue-type"] = "quorum" };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var node in Nodes)
            if (!TryParseNode(node))
                yield return new ValidationResult($"{Section}:Nodes: '{node}' is not host:port.", [nameof(Nodes)]);
        if (DeliveryLimit is not null && QueueType != QueueType.Quorum)
            yield return new ValidationResult($"{Section}:DeliveryLimit needs QueueType quorum (a classic queue has no delivery limit).", [nameof(DeliveryLimit)]);
    }

    static bool TryParseNode(string node)
    {
        var colon = node.LastIndexOf(':');
        return colon > 0 && int.TryParse(node[(colon + 1)..], out var port) && port is > 0 and < 65536;
    }
}

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

/// <summary>
/// A node answers on its port. MassTransit's own bus check stays healthy on a bus without receive endpoints (the
/// API's) while the broker is gone, so readiness asks the broker itself: ready while one of the nodes answers.
/// </summary>
sealed class BrokerReachableCheck(IOptions<BrokerOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var errors = new List<string>();
        foreach (var node in options.Value.Endpoints())
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                await client.ConnectAsync(node.HostName, node.Port, timeout.Token);
                return HealthCheckResult.Healthy($"{node.HostName}:{node.Port} answers");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                errors.Add($"{node.HostName}:{node.Port} does not answer: {e.Message}");
            }
        }
        return HealthCheckResult.Unhealthy(string.Join("; ", errors));
    }
}
