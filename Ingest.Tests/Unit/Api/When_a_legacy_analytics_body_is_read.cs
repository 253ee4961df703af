using System.Text.Json;
using Ingest.Api.Tracking;

namespace Ingest.Tests.Unit.Api;

public sealed class When_a_legacy_analytics_body_is_read
{
    static readonly SegmentMessage.Envelope Envelope = new("pennlabs", new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    static MessagesRead Read(string json) => LegacyAnalytics.Read(JsonDocument.Parse(json).RootElement, Envelope);

    [Test]
    public void Each_item_becomes_a_track_event_of_the_pennkey()
    {
        var read = Read("""{"product":7,"pennkey":"bob","timestamp":1763800000,"data":[{"key":"a","value":"1"},{"key":"b","value":{"n":2},"timestamp":1763800001}]}""");

        Assert.That(read.Errors, Is.Empty);
        Assert.That(read.Events.Select(e => (e.Type, e.Event, e.UserId)), Is.EqualTo(new[] { ("track", "a", "bob"), ("track", "b", "bob") }));
        Assert.That(read.Events[1].Properties!.Value.GetProperty("value").GetProperty("n").GetInt32(), Is.EqualTo(2));
        Assert.That(read.Events[0].Properties!.Value.GetProperty("product").GetInt32(), Is.EqualTo(7));
        Assert.That(read.Events[1].Timestamp, Is.EqualTo(DateTimeOffset.FromUnixTimeSeconds(1763800001)));
    }

    [Test]
    public void A_null_pennkey_makes_an_anonymous_event()
    {
        var e = Read("""{"product":0,"pennkey":null,"timestamp":1763800000,"data":[{"key":"a","value":"1"}]}""").Events.Single();

        Assert.That((e.UserId, e.AnonymousId), Is.EqualTo(((string?)null, "anonymous")));
    }

    [TestCase("""{"product":11,"pennkey":"b","timestamp":1,"data":[{"key":"a"}]}""", "product")]
    [TestCase("""{"pennkey":"b","timestamp":1,"data":[{"key":"a"}]}""", "product")]
    [TestCase("""{"product":1,"pennkey":"b","data":[{"key":"a"}]}""", "timestamp")]
    [TestCase("""{"product":1,"pennkey":"b","timestamp":"noon","data":[{"key":"a"}]}""", "timestamp")]
    [TestCase("""{"product":1,"pennkey":"b","timestamp":1,"data":[]}""", "data")]
    [TestCase("""{"product":1,"pennkey":5,"timestamp":1,"data":[{"key":"a"}]}""", "pennkey")]
    public void An_invalid_body_is_refused_naming_the_field(string json, string field)
    {
        var read = Read(json);

        Assert.That(read.Events, Is.Empty);
        Assert.That(read.Errors[""].Select(e => e.Field), Does.Contain(field));
    }

    [Test]
    public void An_item_without_a_key_is_refused_alone_by_its_index()
    {
        var read = Read("""{"product":1,"pennkey":"b","timestamp":1763800000,"data":[{"key":"a"},{"value":"x"}]}""");

        Assert.That(read.Events, Has.Count.EqualTo(1));
        Assert.That(read.Errors.Keys, Is.EqualTo(new[] { "data[1]" }));
    }
}
