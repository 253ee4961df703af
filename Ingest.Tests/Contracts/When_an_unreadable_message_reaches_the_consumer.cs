using System.Text;
using System.Text.Json;
using Ingest.Contracts;
using Ingest.Worker.Consuming;

namespace Ingest.Tests.Contracts;

/// <summary>
/// A message the worker cannot read as an <see cref="EventBatch"/>, between two the API sent: read with the worker's
/// serializer settings, it faults alone, before it joins a batch (so the real host moves it to the error queue and
/// logs it without its body), and the others are stored. The integration test When_a_broker_message_cannot_be_read
/// shows the same on RabbitMQ and PostgreSQL.
/// </summary>
[TestFixture, CancelAfter(60_000)]
public sealed class When_an_unreadable_message_reaches_the_consumer
{
    const string BatchId = "\"0f8fad5b-d9cb-469f-a165-70867728950e\"";
    const string PublishedAt = "\"2026-11-22T10:00:00Z\"";

    static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    static LooseEventBatch Batch(string events, string batchId = BatchId, string publishedAt = PublishedAt) =>
        new(Json(batchId), Json(publishedAt), Json(events));

    public static IEnumerable<TestCaseData> Unreadable()
    {
        yield return new TestCaseData(null, new RawBody(Encoding.UTF8.GetBytes("{ this is not json"))).SetArgDisplayNames("a body that is not JSON");
        yield return new TestCaseData(Batch("42", batchId: "\"not a guid\"", publishedAt: "\"yesterday\""), null).SetArgDisplayNames("fields of the wrong type");
        yield return new TestCaseData(Batch("null"), null).SetArgDisplayNames("events null");
        yield return new TestCaseData(Batch("[null]"), null).SetArgDisplayNames("an events list holding null");
        yield return new TestCaseData(Batch("""
            [{"sourceId":"s","messageId":"m-ok","type":"track","timestamp":"2026-11-22T10:00:00Z","receivedAt":"2026-11-22T10:00:00Z"},
             {"sourceId":null,"messageId":"m-1","type":"track","timestamp":"2026-11-22T10:00:00Z","receivedAt":"2026-11-22T10:00:00Z"}]
            """), null).SetArgDisplayNames("a required field null");
        yield return new TestCaseData(Batch("""
            [{"sourceId":"s","type":"track","timestamp":"2026-11-22T10:00:00Z","receivedAt":"2026-11-22T10:00:00Z"}]
            """), null).SetArgDisplayNames("a required field missing");
    }

    static AnalyticsEvent Event(string messageId) => new()
    {
        SourceId = "src_contract",
        MessageId = messageId,
        Type = "track",
        Event = "Signed Up",
        Timestamp = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero),
        ReceivedAt = new DateTimeOffset(2026, 11, 22, 10, 0, 1, TimeSpan.Zero),
    };

    [TestCaseSource(nameof(Unreadable))]
    public async Task It_faults_alone_and_the_rest_is_consumed(LooseEventBatch? message, RawBody? body, CancellationToken ct)
    {
        await using var pipeline = await ApiAndWorkerInProcess.StartAsync(ct);

        await pipeline.PublishAsync([Event("before")], ct);
        await pipeline.SendAsync(message ?? Batch("[]"), body, ct);
        await pipeline.PublishAsync([Event("after")], ct);
        await pipeline.StoredAsync(events: 2, faults: 1);

        Assert.That(pipeline.Store.Events.Select(e => e.MessageId), Is.EquivalentTo(new[] { "before", "after" }), "the readable messages, and nothing of the other");
        Assert.That(pipeline.Faults.Faults, Has.Count.EqualTo(1));
        Assert.That(UnreadableMessageLog.IsUnreadable(pipeline.Faults.Faults[0]), Is.True,
            $"a fault the worker logs as unreadable, without the body: {pipeline.Faults.Faults[0].GetType().Name}");
    }
}
