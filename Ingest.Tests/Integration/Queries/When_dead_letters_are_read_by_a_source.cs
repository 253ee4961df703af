using System.Net;
using System.Text;
using System.Text.Json;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;
using RabbitMQ.Client;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// Dead letters of two sources in the API's _error queue: one of source A alone (with its fault), one mixing A and B,
/// one of B alone, one that is not JSON. Each read key asks GET /v1/dead-letters.
/// </summary>
public sealed class When_dead_letters_are_read_by_a_source
{
    [Test]
    public async Task A_key_sees_only_its_own_events_and_a_reason_only_for_its_own_messages()
    {
        var (a, _, aKey) = await ReadSide.CreateSourceAsync();
        var (b, _, bKey) = await ReadSide.CreateSourceAsync();
        var errorQueue = $"{ReadSide.Api.Queue}_error";
        await PublishAsync(errorQueue, "only-a", [(a, "a-1"), (a, "a-2")], fault: "The JSON value could not be converted to System.DateTimeOffset. Path: $.message.events[1].timestamp");
        await PublishAsync(errorQueue, "mixed", [(b, "b-secret-1"), (a, "a-3")], fault: "a fault that may quote anything");
        await PublishAsync(errorQueue, "only-b", [(b, "b-secret-2")], fault: "b's own fault");
        await PublishRawAsync(errorQueue, "not-json", Encoding.UTF8.GetBytes($"{{ {a} but not json"), null);

        var seenByA = await ReadSide.GetJsonAsync("/v1/dead-letters", aKey);
        var seenByB = await ReadSide.GetJsonAsync("/v1/dead-letters", bKey);
        using var badScan = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/dead-letters?scan=0", aKey));

        var lettersOfA = seenByA.GetProperty("deadLetters").EnumerateArray().ToList();
        Assert.That(lettersOfA.Select(l => l.GetProperty("brokerMessageId").GetString()), Is.EqualTo(new[] { "only-a", "mixed" }), "in queue order; neither B's nor the unreadable one");
        Assert.That(lettersOfA.SelectMany(l => l.GetProperty("events").EnumerateArray()).Select(e => e.GetProperty("messageId").GetString()),
            Is.EqualTo(new[] { "a-1", "a-2", "a-3" }), "only A's events");
        Assert.That(lettersOfA[0].GetProperty("reason").GetString(), Does.Contain("could not be converted"));
        Assert.That(lettersOfA[0].GetProperty("exceptionType").GetString(), Is.EqualTo("System.Text.Json.JsonException"));
        Assert.That(lettersOfA[1].GetProperty("reason").ValueKind, Is.EqualTo(JsonValueKind.Null), "a message shared with another source hides its fault");
        Assert.That(seenByA.GetRawText(), Does.Not.Contain("b-secret").And.Not.Contain("b's own fault").And.Not.Contain(b));
        Assert.That(seenByB.GetProperty("deadLetters").EnumerateArray().Select(l => l.GetProperty("brokerMessageId").GetString()), Is.EqualTo(new[] { "mixed", "only-b" }));
        Assert.That(seenByB.GetRawText(), Does.Not.Contain("a-1").And.Not.Contain("a-3"));
        Assert.That(badScan.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await EventSender.ReadyMessagesAsync(errorQueue, CancellationToken.None), Is.EqualTo(4), "reading consumes nothing");
    }

    static Task PublishAsync(string queue, string brokerMessageId, (string Source, string MessageId)[] events, string fault)
    {
        var envelope = new
        {
            messageId = brokerMessageId,
            messageType = new[] { "urn:message:Ingest.Contracts:EventBatch" },
            message = new
            {
                batchId = Guid.NewGuid(),
                publishedAt = DateTimeOffset.UtcNow,
                events = events.Select(e => new { sourceId = e.Source, messageId = e.MessageId, type = "track", @event = "Secret plan", timestamp = "not a date" }),
            },
        };
        return PublishRawAsync(queue, brokerMessageId, JsonSerializer.SerializeToUtf8Bytes(envelope), fault);
    }

    /// <summary>A message into _error as MassTransit leaves one there: the body as it was, the fault in headers.</summary>
    static async Task PublishRawAsync(string queue, string brokerMessageId, byte[] body, string? fault)
    {
        await using var connection = await ApiHost.Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        var properties = new BasicProperties { MessageId = brokerMessageId, Persistent = true, ContentType = "application/vnd.masstransit+json" };
        if (fault is not null)
            properties.Headers = new Dictionary<string, object?>
            {
                ["MT-Reason"] = "fault",
                ["MT-Fault-ExceptionType"] = "System.Text.Json.JsonException",
                ["MT-Fault-Message"] = fault,
                ["MT-Fault-Timestamp"] = DateTime.UtcNow.ToString("O"),
            };
        await channel.BasicPublishAsync("", queue, mandatory: true, properties, body);
    }
}
