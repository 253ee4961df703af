using System.Text.Json;
using Ingest.Api.Tracking;

namespace Ingest.Tests.Unit.Api;

public sealed class When_a_segment_message_is_read
{
    static readonly SegmentMessage.Envelope Envelope = new("shop", new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    static (Ingest.Contracts.AnalyticsEvent? Event, List<FieldError> Errors) Read(string json, string? type = "track", SegmentMessage.Envelope? envelope = null, int position = 0) =>
        SegmentMessage.Read(JsonDocument.Parse(json).RootElement, type, envelope ?? Envelope, position);

    [Test]
    public void A_valid_track_keeps_every_field_and_takes_the_source_from_the_envelope()
    {
        var (e, errors) = Read("""{"userId":"u1","anonymousId":"a1","event":"Bought","messageId":"m1","properties":{"price":9.5},"context":{"ip":"1.2.3.4"},"integrations":{"All":false},"sourceId":"spoofed"}""");

        Assert.That(errors, Is.Empty);
        Assert.That(e!.SourceId, Is.EqualTo("shop"));
        Assert.That((e.MessageId, e.Type, e.Event, e.UserId, e.AnonymousId), Is.EqualTo(("m1", "track", "Bought", "u1", "a1")));
        Assert.That(e.Properties!.Value.GetProperty("price").GetDouble(), Is.EqualTo(9.5));
        Assert.That(e.Context!.Value.GetProperty("ip").GetString(), Is.EqualTo("1.2.3.4"));
        Assert.That(e.Integrations!.Value.GetProperty("All").GetBoolean(), Is.False);
        Assert.That(e.Timestamp, Is.EqualTo(Envelope.ReceivedAt));
    }

    [Test]
    public void A_missing_messageId_is_derived_from_the_source_the_body_and_the_position()
    {
        const string body = """{"userId":"u1","event":"E"}""";
        string Id(string source, string json, int position) =>
            Read(json, envelope: Envelope with { SourceId = source, Ids = new MessageIds(System.Text.Encoding.UTF8.GetBytes(json)) }, position: position).Event!.MessageId;

        Assert.That(Id("shop", body, 0), Is.EqualTo(Id("shop", body, 0)), "a retry of the same body");
        Assert.That(Guid.TryParse(Id("shop", body, 0), out _), Is.True);
        Assert.That(Id("shop", body, 1), Is.Not.EqualTo(Id("shop", body, 0)), "another place in the body");
        Assert.That(Id("blog", body, 0), Is.Not.EqualTo(Id("shop", body, 0)), "another source");
        Assert.That(Id("shop", """{"userId":"u1","event":"F"}""", 0), Is.Not.EqualTo(Id("shop", body, 0)), "another body");
    }

    [Test]
    public void A_numeric_userId_is_accepted_as_its_text()
    {
        Assert.That(Read("""{"userId":42,"event":"E"}""").Event!.UserId, Is.EqualTo("42"));
    }

    [TestCase("""{"event":"E"}""", "track", "userId")]
    [TestCase("""{"userId":"u"}""", "track", "event")]
    [TestCase("""{"userId":"u","event":""}""", "track", "event")]
    [TestCase("""{"userId":"u"}""", "group", "groupId")]
    [TestCase("""{"userId":"u"}""", "alias", "previousId")]
    [TestCase("""{"userId":"","event":"E"}""", "track", "userId")]
    [TestCase("""{"userId":"u","event":5}""", "track", "event")]
    [TestCase("""{"userId":"u","event":"E","traits":"x"}""", "track", "traits")]
    [TestCase("""{"userId":"u","event":"E","sentAt":"soon"}""", "track", "sentAt")]
    [TestCase("""{"userId":"u","event":"E"}""", null, "type")]
    [TestCase("""{"type":"purchase","userId":"u"}""", null, "type")]
    public void An_invalid_message_is_refused_naming_the_field(string json, string? type, string field)
    {
        var (e, errors) = Read(json, type);

        Assert.That(e, Is.Null);
        Assert.That(errors.Select(x => x.Field), Does.Contain(field));
    }

    [Test]
    public void An_id_longer_than_255_is_refused()
    {
        var (_, errors) = Read($$"""{"userId":"{{new string('u', 256)}}","event":"E"}""");

        Assert.That(errors.Single().Reason, Does.Contain("255"));
    }

    [Test]
    public void A_nul_in_a_nested_property_name_is_refused_naming_its_path()
    {
        var (_, errors) = Read("""{"userId":"u","event":"E","properties":{"cart":[{"a\u0000":1}]}}""");

        Assert.That(errors.Single().Field, Is.EqualTo("properties.cart[0].a\0"));
    }

    [Test]
    public void A_batch_item_takes_the_batch_context_and_sentAt()
    {
        var batch = JsonDocument.Parse("""{"sentAt":"2026-11-22T09:00:10Z","context":{"library":{"name":"x"}}}""").RootElement;
        var envelope = Envelope with { BatchSentAt = batch.GetProperty("sentAt").GetDateTimeOffset(), BatchContext = batch.GetProperty("context") };

        var (e, _) = Read("""{"type":"track","userId":"u","event":"E","timestamp":"2026-11-22T09:00:00Z"}""", null, envelope);

        Assert.That(e!.Timestamp, Is.EqualTo(Envelope.ReceivedAt.AddSeconds(-10)));
        Assert.That(e.Context!.Value.GetProperty("library").GetProperty("name").GetString(), Is.EqualTo("x"));
    }
}
