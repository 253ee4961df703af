using System.Runtime.Serialization;
using System.Text.Json;
using Ingest.Contracts;
using Ingest.Worker.Consuming;
using Serilog.Events;
using Serilog.Parsing;

namespace Ingest.Tests.Unit.Worker;

public sealed class When_a_broker_message_cannot_be_deserialized
{
    const string Secret = "PdSecretUser42";

    static SerializationException DeserializationFault(string json)
    {
        try
        {
            JsonSerializer.Deserialize<EventBatch>(json, JsonSerializerOptions.Web);
        }
        catch (JsonException e)
        {
            // As MassTransit wraps it.
            return new SerializationException("An error occured while deserializing the message envelope", e);
        }
        throw new AssertionException("the JSON was read");
    }

    [Test]
    public void A_broken_literal_is_described_by_where_the_JSON_broke_not_by_the_body_quoted_after_it()
    {
        var fault = DeserializationFault($$"""{"events":[{"timestampClamped":fals,"userId":"O'Brien {{Secret}}"}]}""");
        Assert.That(fault.ToString(), Does.Contain(Secret), "System.Text.Json quotes the rest of the body");

        var described = UnreadableMessageLog.Describe(fault);

        Assert.That(described, Does.Not.Contain(Secret));
        Assert.That(described, Does.Contain("SerializationException: An error occured while deserializing the message envelope"));
        Assert.That(described, Does.Contain("JsonException: not valid JSON at line 0, byte"));
    }

    [Test]
    public void A_value_that_does_not_fit_the_contract_is_described_by_its_path()
    {
        var described = UnreadableMessageLog.Describe(DeserializationFault($$"""{"batchId":"{{Secret}}","publishedAt":"2026-11-22T10:00:00Z","events":[]}"""));

        Assert.That(described, Does.Not.Contain(Secret));
        Assert.That(described, Does.Contain("Path: $.batchId"));
    }

    [Test]
    public void MassTransit_s_own_fault_event_is_dropped_only_for_a_message_that_cannot_be_read()
    {
        static LogEvent Fault(Exception e) => new(DateTimeOffset.UtcNow, LogEventLevel.Error, e,
            new MessageTemplateParser().Parse("R-FAULT {InputAddress} {MessageId} {Duration}"), []);
        var filter = new UnreadableMessageFaultFilter();

        Assert.That(filter.IsEnabled(Fault(DeserializationFault("{ nope"))), Is.False);
        Assert.That(filter.IsEnabled(Fault(new InvalidOperationException("a consumer's own fault"))), Is.True);
        Assert.That(UnreadableMessageLog.IsUnreadable(new InvalidOperationException("x")), Is.False);
    }
}
