using System.ComponentModel.DataAnnotations;
using RabbitMQ.Client;
using ValidationResult = System.ComponentModel.DataAnnotations.ValidationResult;

namespace Ingest.Broker;

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

    /// <summary>
    /// The queue's backlog bound, in bytes of message bodies: past it RabbitMQ refuses new messages (reject-publish) and
    /// the API answers 503 with Retry-After at once, instead of the backlog growing until the broker's disk alarm blocks
    /// every publisher. Unset by default: the backlog is what carries ingestion through a database outage, so size it
    /// for the longest outage to ride out (events a second × bytes an event × seconds). A declared argument, like the
    /// queue's type: it cannot change on an existing queue (or set it by policy instead, docs/operations.md).
    /// </summary>
    [Range(1, long.MaxValue)] public long? MaxQueueBytes { get; set; }

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
        var arguments = new Dictionary<string, object?>();
        if (QueueType == QueueType.Quorum) arguments["x-queue-type"] = "quorum";
        if (DeliveryLimit is { } limit)
        {
            arguments["x-delivery-limit"] = limit;
            arguments["x-dead-letter-exchange"] = ErrorQueue;
            // At least once: the message leaves only once _error has it (3.10+; needs reject-publish overflow).
            arguments["x-dead-letter-strategy"] = "at-least-once";
            arguments["x-overflow"] = "reject-publish";
        }
        if (MaxQueueBytes is { } bytes)
        {
            // Refuse the newest (the publisher gets a nack), never drop the oldest: RabbitMQ's default overflow drops the head.
            arguments["x-max-length-bytes"] = bytes;
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
