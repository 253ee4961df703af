using System.Text.Json;
using Ingest.Contracts;

namespace Ingest.Testing.Events;

/// <summary>Events as the worker receives them (what the API makes of a request), for the tests and benchmarks that skip the API.</summary>
public static class TestEvents
{
    static readonly JsonElement Properties = JsonDocument.Parse("""{"plan":"pro","amount":12.5}""").RootElement;

    /// <summary>A track event "Test Event" of user-1 with two properties, sent and received now.</summary>
    public static AnalyticsEvent Track(string source, string messageId, JsonElement? properties = null) => new()
    {
        SourceId = source,
        MessageId = messageId,
        Type = "track",
        Event = "Test Event",
        UserId = "user-1",
        Timestamp = DateTimeOffset.UtcNow,
        ReceivedAt = DateTimeOffset.UtcNow,
        Properties = properties ?? Properties,
    };

    /// <summary>
    /// <paramref name="messages"/> broker messages of <paramref name="eventsEach"/> events each, message ids
    /// "{prefix}-{n}" numbered across them; <paramref name="make"/> makes each event (<see cref="Track"/> of <paramref name="source"/> by default).
    /// </summary>
    public static IReadOnlyList<EventBatch> Batches(string source, string prefix, int messages, int eventsEach, Func<string, string, AnalyticsEvent>? make = null) =>
        Enumerable.Range(0, messages).Select(m => new EventBatch(Guid.NewGuid(), DateTimeOffset.UtcNow,
            Enumerable.Range(0, eventsEach).Select(e => (make ?? ((s, id) => Track(s, id)))(source, $"{prefix}-{m * eventsEach + e}")).ToList())).ToList();
}
