using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Broker;

/// <summary>
/// Declares the ingest queue (with <see cref="BrokerOptions.QueueArguments"/>), its exchange and their binding before
/// MassTransit starts, on both hosts, so the API never sends to an exchange with no queue behind it, and a queue that
/// exists with other arguments (a classic queue where quorum is configured, or the reverse; another bound) stops the
/// host at start with a message that says what to do, instead of MassTransit retrying the refused declaration for ever.
/// While no node answers yet it retries for about a minute, then fails.
/// </summary>
public sealed class QueueDeclaration(IOptions<BrokerOptions> options, ILogger<QueueDeclaration> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var broker = options.Value;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await broker.ConnectAsync("ingest queue declaration", cancellationToken);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                await DeclareAsync(channel, broker, cancellationToken);
                return;
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
            {
                throw new InvalidOperationException(
                    $"{BrokerOptions.Section}:QueueType is {broker.QueueType}{(broker.MaxQueueBytes is { } bytes ? $" with MaxQueueBytes {bytes}" : "")}, but queue '{broker.Queue}' exists with other arguments ({e.ShutdownReason.ReplyText}). " +
                    "A queue's type and bound cannot change in place: set Ingest:Broker:Queue to a new name (the workers drain the old queue with its old settings first), " +
                    "or drain the old queue and delete it. See docs/operations.md, 'Quorum queues' and 'Bounding the backlog'.", e);
            }
            catch (BrokerUnreachableException e) when (attempt < 30)
            {
                log.LogWarning("Broker not reachable to declare queue {Queue} (attempt {Attempt}): {Error}", broker.Queue, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }

    /// <summary>The queue and its exchange as MassTransit declares them (a durable fanout exchange of the same name).</summary>
    public static async Task DeclareAsync(IChannel channel, BrokerOptions broker, CancellationToken ct)
    {
        await channel.QueueDeclareAsync(broker.Queue, durable: true, exclusive: false, autoDelete: false, broker.QueueArguments(), cancellationToken: ct);
        await channel.ExchangeDeclareAsync(broker.Queue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: ct);
        await channel.QueueBindAsync(broker.Queue, broker.Queue, "", cancellationToken: ct);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
