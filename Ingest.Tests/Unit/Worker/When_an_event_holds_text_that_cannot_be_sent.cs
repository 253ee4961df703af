using System.Text.Json;
using Ingest.Contracts;
using Ingest.Worker.Persistence;

namespace Ingest.Tests.Unit.Worker;

public sealed class When_an_event_holds_text_that_cannot_be_sent
{
    static AnalyticsEvent Event() => new()
    {
        SourceId = "web",
        MessageId = "m-1",
        Type = "track",
        Event = "Signed Up 🎉",
        UserId = "user-1",
        Timestamp = DateTimeOffset.UtcNow,
        ReceivedAt = DateTimeOffset.UtcNow,
        // Escapes in the JSON fields are sent as they are: PostgreSQL judges them, not the worker.
        Properties = JsonDocument.Parse("""{"note":"a\u0000b","amount":1e400000}""").RootElement,
    };

    [Test]
    public void Ordinary_text_and_escapes_in_JSON_are_left_to_PostgreSQL() =>
        Assert.That(UnsendableText.Find(Event()), Is.Null);

    [Test]
    public void A_NUL_character_is_found_with_its_field_and_PostgreSQLs_code() =>
        Assert.That(UnsendableText.Find(Event() with { UserId = "user\0one" }), Does.StartWith("userId contains a NUL character").And.Contain("SQLSTATE 22021"));

    // Built at run time: an attribute's string argument is stored as UTF-8, where a lone surrogate becomes U+FFFD.
    static readonly string[] LoneSurrogates = ["\ud800", "a\udc00b", "end\ud83d"];

    [TestCaseSource(nameof(LoneSurrogates))]
    public void A_lone_surrogate_is_found_with_its_field(string name) =>
        Assert.That(UnsendableText.Find(Event() with { Event = name }), Does.StartWith("event contains a lone UTF-16 surrogate"));
}
