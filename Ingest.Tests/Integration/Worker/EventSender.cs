using System.Text.Json;
using Dapper;
using Ingest.Contracts;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using MassTransit;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// Stands in for Ingest.Api: sends EventBatch messages to a worker's queue with a MassTransit bus (publisher
/// confirms on), and reads back what a user would check: the queues' depths, the events and the transaction log.
/// </summary>
public sealed class EventSender : IAsyncDisposable
{
    readonly IBusControl _bus;
    readonly ISendEndpoint _endpoint;
    readonly NpgsqlDataSource _database;

    EventSender(string queue, IBusControl bus, ISendEndpoint endpoint, NpgsqlDataSource database)
    {
        Queue = queue;
        _bus = bus;
        _endpoint = endpoint;
        _database = database;
    }

    public string Queue { get; }

    /// <summary>A source id of its own per fixture, so fixtures never count each other's rows.</summary>
    public string Source { get; } = $"wt-{Guid.NewGuid():N}"[..16];

    /// <summary>A sender to <paramref name="queue"/> that counts what is stored in <paramref name="database"/> (the run's database by default).</summary>
    public static async Task<EventSender> StartAsync(string queue, CancellationToken ct, NpgsqlDataSource? database = null)
    {
        var broker = new BrokerOptions { Host = "127.0.0.1", Port = TestStack.AmqpPort, Queue = queue };
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(broker));
        await bus.StartAsync(ct);
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        return new EventSender(queue, bus, endpoint, database ?? TestStack.Database);
    }

    public static string NewQueue(string fixture) => $"worker-test-{fixture}-{Guid.NewGuid():N}"[..40];

    public AnalyticsEvent Event(string messageId, JsonElement? properties = null) => TestEvents.Track(Source, messageId, properties);

    /// <summary>Sends <paramref name="messages"/> broker messages of <paramref name="eventsEach"/> events, message ids "{prefix}-{n}".</summary>
    public async Task<IReadOnlyList<string>> SendAsync(string prefix, int messages, int eventsEach, CancellationToken ct)
    {
        var batches = TestEvents.Batches(Source, prefix, messages, eventsEach);
        await Task.WhenAll(batches.Select(b => _endpoint.Send(b, ct)));
        return batches.SelectMany(b => b.Events.Select(e => e.MessageId)).ToList();
    }

    /// <summary>
    /// Puts readable EventBatch messages straight into this queue's dead-letter queue (as a faulted consumer once did),
    /// each with its batch id as the broker message id; event message ids "{prefix}-{n}". Returns the broker message ids.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> SendToErrorQueueAsync(string prefix, int messages, int eventsEach, CancellationToken ct)
    {
        var endpoint = await _bus.GetSendEndpoint(new Uri($"queue:{Queue}_error"));
        var batches = TestEvents.Batches(Source, prefix, messages, eventsEach);
        foreach (var batch in batches) await endpoint.Send(batch, context => context.MessageId = batch.BatchId, ct);
        return batches.Select(b => b.BatchId).ToList();
    }

    public Task SendAsync(IReadOnlyList<AnalyticsEvent> events, CancellationToken ct) =>
        _endpoint.Send(new EventBatch(Guid.NewGuid(), DateTimeOffset.UtcNow, events), ct);

    /// <summary>A body as it is, published with RabbitMQ.Client to this sender's queue (which a send has declared): what no MassTransit sender would produce.</summary>
    public async Task SendRawAsync(byte[] body, string contentType, CancellationToken ct)
    {
        var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = TestStack.AmqpPort };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        var properties = new BasicProperties { ContentType = contentType, Persistent = true, MessageId = Guid.NewGuid().ToString() };
        await channel.BasicPublishAsync("", Queue, mandatory: true, properties, body, ct);
    }

    /// <summary>Takes every message from a queue and returns their bodies.</summary>
    public static async Task<IReadOnlyList<byte[]>> TakeAllAsync(string queue, CancellationToken ct)
    {
        var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = TestStack.AmqpPort };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        var bodies = new List<byte[]>();
        while (await channel.BasicGetAsync(queue, autoAck: true, ct) is { } message)
            bodies.Add(message.Body.ToArray());
        return bodies;
    }

    /// <summary>Messages ready in a queue (not those delivered and unacknowledged); 0 when it does not exist.</summary>
    public static async Task<uint> ReadyMessagesAsync(string queue, CancellationToken ct)
    {
        var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = TestStack.AmqpPort };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue, ct)).MessageCount;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    public Task<uint> ErrorQueueMessagesAsync(CancellationToken ct) => ReadyMessagesAsync($"{Queue}_error", ct);

    public async Task<long> StoredAsync(CancellationToken ct)
    {
        await using var conn = await _database.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from events where source_id = @Source", new { Source }, cancellationToken: ct));
    }

    /// <summary>Message ids stored more than once, or expected and missing.</summary>
    public async Task<(IReadOnlyList<string> Missing, IReadOnlyList<string> Repeated)> CheckStoredOnceAsync(IEnumerable<string> expected, CancellationToken ct)
    {
        await using var conn = await _database.OpenConnectionAsync(ct);
        var stored = (await conn.QueryAsync<string>(new CommandDefinition(
            "select message_id from events where source_id = @Source", new { Source }, cancellationToken: ct))).ToList();
        var repeated = stored.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var missing = expected.Except(stored).ToList();
        return (missing, repeated);
    }

    public static async Task<IReadOnlyList<TransactionRow>> TransactionsOfAsync(WorkerProcess worker, CancellationToken ct, NpgsqlDataSource? database = null)
    {
        await using var conn = await (database ?? TestStack.Database).OpenConnectionAsync(ct);
        return (await conn.QueryAsync<TransactionRow>(new CommandDefinition("""
            select id as Id, status as Status, broker_messages as BrokerMessages, events as Events, inserted as Inserted,
                   duplicates as Duplicates, quarantined as Quarantined, attempt as Attempt, error as Error
            from ingest_transactions where worker_host = @Host order by started_at, attempt
            """, new { Host = worker.WorkerHost }, cancellationToken: ct))).ToList();
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync(CancellationToken.None);
}
