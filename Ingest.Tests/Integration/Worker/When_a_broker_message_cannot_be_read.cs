using System.Text;

namespace Ingest.Tests.Integration.Worker;

/// <summary>Messages that cannot be read as an EventBatch arrive between good ones, in one batch of the worker.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_a_broker_message_cannot_be_read
{
    [Test]
    public async Task It_alone_goes_to_the_error_queue_and_the_rest_of_the_batch_is_stored(CancellationToken ct)
    {
        await using var sender = await EventSender.StartAsync(EventSender.NewQueue("unreadable"), ct);
        var ids = new List<string>(await sender.SendAsync("before", messages: 3, eventsEach: 10, ct));
        var notJson = Encoding.UTF8.GetBytes("{ this is not json");
        var notAnEventBatch = Envelope("""{"batchId":"not a guid","publishedAt":"yesterday","events":42}""");
        // The right shape with nulls where the contract has none: no more storable than the others.
        var nullEvents = Envelope("""{"batchId":"0f8fad5b-d9cb-469f-a165-70867728950e","publishedAt":"2026-11-22T10:00:00Z","events":null}""");
        var nullSource = Envelope("""
            {"batchId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","publishedAt":"2026-11-22T10:00:00Z","events":[
              {"sourceId":null,"messageId":"m-1","type":"track","timestamp":"2026-11-22T10:00:00Z","receivedAt":"2026-11-22T10:00:00Z"}]}
            """);
        var nullEvent = Envelope("""{"batchId":"9b2e4c1a-1d3f-4a5b-8c6d-7e8f9a0b1c2d","publishedAt":"2026-11-22T10:00:00Z","events":[null]}""");
        byte[][] unreadable = [notJson, notAnEventBatch, nullEvents, nullSource, nullEvent];
        foreach (var body in unreadable)
            await sender.SendRawAsync(body, "application/vnd.masstransit+json", ct);
        ids.AddRange(await sender.SendAsync("after", messages: 3, eventsEach: 10, ct));

        // Started after every message is queued, so the first batch (up to 50 messages) holds them all.
        await using var worker = await WorkerProcess.StartAsync(sender.Queue, new Dictionary<string, string>
        {
            ["Ingest__Worker__RetryBaseDelay"] = "00:00:00.100",
            ["Ingest__Worker__RetryMaxDelay"] = "00:00:01",
        });

        await Eventually.HoldsAsync(async t => await sender.StoredAsync(t) >= ids.Count && await sender.ErrorQueueMessagesAsync(t) >= unreadable.Length,
            TimeSpan.FromSeconds(30),
            () => $"{sender.StoredAsync(CancellationToken.None).Result} of {ids.Count} stored; error queue {sender.ErrorQueueMessagesAsync(CancellationToken.None).Result}");

        var (missing, repeated) = await sender.CheckStoredOnceAsync(ids, ct);
        Assert.That(missing, Is.Empty, "the good messages of the batch are stored");
        Assert.That(repeated, Is.Empty);
        Assert.That(await sender.StoredAsync(ct), Is.EqualTo(ids.Count));
        var dead = await EventSender.TakeAllAsync($"{sender.Queue}_error", ct);
        Assert.That(dead, Is.EquivalentTo(unreadable), "the unreadable messages, as sent, and nothing else are in the error queue");
        Assert.That(worker.HasExited, Is.False);
    }

    static byte[] Envelope(string eventBatch) => Encoding.UTF8.GetBytes(
        $$"""{"messageId":"{{Guid.NewGuid()}}","messageType":["urn:message:Ingest.Contracts:EventBatch"],"message":{{eventBatch}}}""");
}
