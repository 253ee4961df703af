using System.Text;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;
using RabbitMQ.Client;

namespace Ingest.Tests.Integration.Broker;

/// <summary>
/// A quorum queue with Ingest:Broker:DeliveryLimit 1: a message returned to the queue twice (as a worker that crashes
/// on it would return it) is dead-lettered by RabbitMQ itself, into the _error queue the worker declared at start.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_a_message_passes_the_delivery_limit
{
    [Test]
    public async Task It_lands_in_the_error_queue_and_the_dead_letter_list_shows_why(CancellationToken ct)
    {
        var queue = EventSender.NewQueue("limit");
        var worker = await WorkerProcess.StartAsync(queue, new Dictionary<string, string>
        {
            ["Ingest__Broker__QueueType"] = "quorum",
            ["Ingest__Broker__DeliveryLimit"] = "1",
        });
        await worker.StopAsync(TimeSpan.FromSeconds(30)); // declared everything; nothing consumes now
        await worker.DisposeAsync();

        await using var connection = await ApiHost.Broker().CreateConnectionAsync(ct);
        try
        {
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
            var messageId = Guid.NewGuid().ToString();
            await channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties { MessageId = messageId, Persistent = true }, Encoding.UTF8.GetBytes("{}"), ct);
            for (var returned = 0; returned < 5 && await channel.BasicGetAsync(queue, autoAck: false, ct) is { } delivery; returned++)
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, ct);

            await Eventually.HoldsAsync(async t => await EventSender.ReadyMessagesAsync($"{queue}_error", t) == 1, TimeSpan.FromSeconds(10), () => "the message in _error");
            Assert.That(await EventSender.ReadyMessagesAsync(queue, ct), Is.Zero);
            var listed = await DeadLetterCommandLine.SucceedsAsync(queue, "list");
            Assert.That(listed, Does.Contain(messageId).And.Contain("RabbitMQ dead-lettered it: delivery_limit"));
        }
        finally
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: CancellationToken.None);
            await channel.QueueDeleteAsync(queue, cancellationToken: CancellationToken.None);
            await channel.QueueDeleteAsync($"{queue}_error", cancellationToken: CancellationToken.None);
        }
    }
}
