using System.Reflection;
using System.Text.Json;
using Ingest.Contracts;

namespace Ingest.Tests.Contracts;

/// <summary>
/// The API's events, encoded and sent by its publisher, read by the worker's consumer (<see cref="ApiAndWorkerInProcess"/>).
/// Every property of <see cref="AnalyticsEvent"/> is compared by reflection, so a field added to the contract is
/// checked without touching this test, and one the fully set event leaves unset fails it.
/// </summary>
[TestFixture, CancelAfter(60_000)]
public sealed class When_the_api_s_batch_reaches_the_consumer
{
    static readonly PropertyInfo[] Fields = typeof(AnalyticsEvent).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    /// <summary>Every field set, none to its default, with the text a JSON writer might get wrong.</summary>
    static AnalyticsEvent Full(string messageId) => new()
    {
        SourceId = "src_contract",
        MessageId = messageId,
        Type = "track",
        Event = "Order Completed — “quoted”, \\ backslash, \t tab",
        Name = "Checkout ✓",
        UserId = "O'Brien 👩‍💻",
        AnonymousId = "anon-0f8fad5b",
        GroupId = "group-42",
        PreviousId = "previous-7",
        Timestamp = new DateTimeOffset(2026, 11, 22, 10, 0, 0, 123, TimeSpan.Zero).AddTicks(4567),
        OriginalTimestamp = new DateTimeOffset(2026, 11, 22, 11, 0, 1, 5, TimeSpan.FromHours(1)),
        SentAt = new DateTimeOffset(2026, 11, 22, 4, 0, 2, TimeSpan.FromHours(-6)),
        ReceivedAt = new DateTimeOffset(2026, 11, 22, 10, 0, 3, 999, TimeSpan.Zero),
        TimestampClamped = true,
        Properties = Json("""{"revenue":12345678901234567890.125,"currency":"EUR","items":[{"sku":"a\u00e9\"b","qty":2}],"nothing":null,"ok":false}"""),
        Traits = Json("""{"email":"o'brien@example.com","plan":"pro","nested":{"deep":[1,2.5,-3e-7]}}"""),
        Context = Json("""{"ip":"203.0.113.0","library":{"name":"analytics.js","version":"5.2.0"},"locale":"fr-FR"}"""),
        Integrations = Json("""{"All":false,"Mixpanel":true}"""),
    };

    /// <summary>Only what the contract requires: every optional field absent.</summary>
    static AnalyticsEvent Minimal(string messageId) => new()
    {
        SourceId = "src_contract",
        MessageId = messageId,
        Type = "identify",
        Timestamp = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero),
        ReceivedAt = new DateTimeOffset(2026, 11, 22, 10, 0, 1, TimeSpan.Zero),
    };

    [Test]
    public void The_fully_set_event_leaves_no_field_unset()
    {
        var full = Full("m-full");
        var unset = Fields.Where(f => f.GetValue(full) is not { } value || value.Equals(Default(f.PropertyType))).Select(f => f.Name);
        Assert.That(unset, Is.Empty, "set every field of AnalyticsEvent in Full(), so the contract test checks it");
    }

    [Test]
    public async Task Every_field_arrives_unchanged(CancellationToken ct)
    {
        await using var pipeline = await ApiAndWorkerInProcess.StartAsync(ct);
        AnalyticsEvent[] first = [Full("m-1"), Minimal("m-2")];
        AnalyticsEvent[] second = [Full("m-3") with { Type = "page", SourceId = "src_other" }];

        // Two requests at once, as the API gathers them into one broker message.
        await Task.WhenAll(pipeline.PublishAsync(first, ct), pipeline.PublishAsync(second, ct));
        await pipeline.StoredAsync(events: 3);

        var stored = pipeline.Store.Events.ToDictionary(e => e.MessageId);
        Assert.That(stored.Keys, Is.EquivalentTo(new[] { "m-1", "m-2", "m-3" }));
        Assert.Multiple(() =>
        {
            foreach (var sent in first.Concat(second))
                foreach (var field in Fields)
                {
                    var (expected, actual) = (field.GetValue(sent), field.GetValue(stored[sent.MessageId]));
                    Assert.That(Same(expected, actual), Is.True, $"{sent.MessageId}.{field.Name}: sent {Show(expected)}, stored {Show(actual)}");
                }
        });
        Assert.That(pipeline.Faults.Faults, Is.Empty);
    }

    /// <summary>Equal as the database would store them: JSON by value, times to the tick and with their offset.</summary>
    static bool Same(object? expected, object? actual) => (expected, actual) switch
    {
        (JsonElement a, JsonElement b) => JsonElement.DeepEquals(a, b),
        (DateTimeOffset a, DateTimeOffset b) => a.EqualsExact(b),
        _ => Equals(expected, actual),
    };

    static string Show(object? value) => value switch
    {
        null => "null",
        JsonElement json => json.GetRawText(),
        DateTimeOffset time => time.ToString("O"),
        _ => value.ToString() ?? "",
    };

    static object? Default(Type type) => type.IsValueType && Nullable.GetUnderlyingType(type) is null ? Activator.CreateInstance(type) : null;
}
