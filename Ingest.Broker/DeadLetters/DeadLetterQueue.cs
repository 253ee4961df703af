using System.Globalization;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Broker.DeadLetters;

/// <summary>
/// The dead-letter queue <c>&lt;queue&gt;_error</c>, where MassTransit moves a broker message the worker cannot read.
/// <para>
/// Reading never consumes: messages are taken with basic.get without acknowledgement, held by this channel, and handed
/// back with one basic.nack (requeue) at the end. Nobody consumes <c>_error</c>, and RabbitMQ puts requeued messages
/// back in their original place, so a listing leaves the queue as it was, order included. While one reader holds
/// messages, another does not see them: run one command at a time.
/// </para>
/// <para>
/// Replay publishes a message to the main queue with publisher confirms and acknowledges it on <c>_error</c> only after
/// the broker confirmed. A crash in between leaves it in both queues: the worker stores its events once anyway
/// (idempotent on source and messageId), so a replayed event is stored once whatever happens.
/// </para>
/// </summary>
public sealed class DeadLetterQueue : IAsyncDisposable
{
    /// <summary>Headers MassTransit adds when it moves a message to _error; a replayed message goes back without them.</summary>
    static readonly string[] FaultHeaderPrefixes = ["MT-Fault-", "MT-Reason", "MT-Host-"];

    readonly IConnection _connection;

    DeadLetterQueue(IConnection connection, BrokerOptions broker)
    {
        _connection = connection;
        Queue = broker.Queue;
        ErrorQueue = broker.ErrorQueue;
    }

    /// <summary>The main queue, where replayed messages go.</summary>
    public string Queue { get; }

    public string ErrorQueue { get; }

    public static async Task<DeadLetterQueue> ConnectAsync(BrokerOptions broker, CancellationToken ct) =>
        new(await broker.ConnectAsync("ingest dead-letters", ct), broker);

    /// <summary>The first <paramref name="limit"/> dead letters, in queue order, left in place.</summary>
    public async Task<IReadOnlyList<DeadLetter>> PeekAsync(int limit, CancellationToken ct)
    {
        await using var channel = await _connection.CreateChannelAsync(cancellationToken: ct);
        var present = await CountAsync(channel, ErrorQueue, ct);
        var letters = new List<DeadLetter>();
        ulong lastTag = 0;
        try
        {
            while (letters.Count < Math.Min(limit, present) && await channel.BasicGetAsync(ErrorQueue, autoAck: false, ct) is { } message)
            {
                lastTag = message.DeliveryTag;
                letters.Add(Read(letters.Count + 1, message));
            }
        }
        finally
        {
            if (lastTag != 0 && channel.IsOpen) await channel.BasicNackAsync(lastTag, multiple: true, requeue: true, CancellationToken.None);
        }
        return letters;
    }

    /// <summary>
    /// Moves the dead letters that <paramref name="which"/> picks back to the main queue, each acknowledged on _error
    /// only after the broker confirmed it on the main queue; the others stay, in order. Looks at most at the messages
    /// that were in _error when it started, so a message that fails again and comes back is not replayed twice by one call.
    /// </summary>
    public async Task<IReadOnlyList<DeadLetter>> ReplayAsync(Func<DeadLetter, bool> which, CancellationToken ct) =>
        await TakeAsync(which, stopAfterFirst: false, async (channel, message) =>
        {
            var properties = new BasicProperties(message.BasicProperties) { Persistent = true };
            if (properties.Headers is { } headers)
                properties.Headers = headers.Where(h => !FaultHeaderPrefixes.Any(p => h.Key.StartsWith(p, StringComparison.Ordinal)))
                    .ToDictionary(h => h.Key, h => h.Value);
            // Awaits the broker's confirm; throws when it nacks, or returns the message as unroutable (no main queue).
            await channel.BasicPublishAsync("", Queue, mandatory: true, properties, message.Body, ct);
        }, ct);

    /// <summary>Removes the first dead letter with <paramref name="messageId"/>; null when there is none.</summary>
    public async Task<DeadLetter?> DropAsync(string messageId, CancellationToken ct)
    {
        var dropped = await TakeAsync(l => l.MessageId == messageId, stopAfterFirst: true, (_, _) => Task.CompletedTask, ct);
        return dropped.Count == 0 ? null : dropped[0];
    }

    /// <summary>
    /// Passes every dead letter present through <paramref name="rewrite"/>: a message it returns unchanged stays in
    /// place; one it returns rewritten is published again to _error (at its end, with its properties and headers) and
    /// the original acknowledged after the broker confirmed; one it returns null for is acknowledged, gone. A crash in
    /// between leaves both the old and the new message: run again.
    /// </summary>
    public async Task RewriteAsync(Func<DeadLetter, byte[]?> rewrite, CancellationToken ct)
    {
        byte[]? replacement = null; // TakeAsync asks which, then acts on the same message before the next
        await TakeAsync(letter =>
        {
            replacement = rewrite(letter);
            return !ReferenceEquals(replacement, letter.Body);
        }, stopAfterFirst: false, async (channel, message) =>
        {
            if (replacement is null) return;
            var properties = new BasicProperties(message.BasicProperties) { Persistent = true };
            await channel.BasicPublishAsync("", ErrorQueue, mandatory: true, properties, replacement, ct);
        }, ct);
    }

    async Task<IReadOnlyList<DeadLetter>> TakeAsync(Func<DeadLetter, bool> which, bool stopAfterFirst,
        Func<IChannel, BasicGetResult, Task> beforeAck, CancellationToken ct)
    {
        await using var channel = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        var present = await CountAsync(channel, ErrorQueue, ct);
        var taken = new List<DeadLetter>();
        ulong lastHeld = 0;
        try
        {
            for (var position = 1; position <= present && await channel.BasicGetAsync(ErrorQueue, autoAck: false, ct) is { } message; position++)
            {
                var letter = Read(position, message);
                if (!which(letter))
                {
                    lastHeld = message.DeliveryTag;
                    continue;
                }
                await beforeAck(channel, message);
                await channel.BasicAckAsync(message.DeliveryTag, multiple: false, ct);
                taken.Add(letter);
                if (stopAfterFirst) break;
            }
        }
        finally
        {
            // Every message held and not taken goes back to its place; so does one whose publish failed.
            // (Closing the channel would requeue them too; this says so.)
            if (lastHeld != 0 && channel.IsOpen) await channel.BasicNackAsync(lastHeld, multiple: true, requeue: true, CancellationToken.None);
        }
        return taken;
    }

    /// <summary>Messages ready in <paramref name="errorQueue"/>; 0 when it does not exist yet (the channel is then closed, and nothing is read).</summary>
    public static async Task<uint> CountAsync(IChannel channel, string errorQueue, CancellationToken ct)
    {
        try
        {
            return (await channel.QueueDeclarePassiveAsync(errorQueue, ct)).MessageCount;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    static DeadLetter Read(int position, BasicGetResult message)
    {
        var body = message.Body.ToArray();
        var headers = message.BasicProperties.Headers;
        return new DeadLetter(position, DeadLetter.IdOf(message.BasicProperties, body),
            Header(headers, "MT-Fault-ExceptionType"),
            // RabbitMQ's own dead-lettering (a quorum queue's delivery limit) leaves no MT-Fault headers, only x-death's.
            Header(headers, "MT-Fault-Message") ?? (Header(headers, "x-first-death-reason") is { } reason ? $"RabbitMQ dead-lettered it: {reason}" : null),
            DateTimeOffset.TryParse(Header(headers, "MT-Fault-Timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null,
            body);
    }

    static string? Header(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            null => null,
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        } : null;

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
