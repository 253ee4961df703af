using System.Text.Json;
using System.Text.Json.Serialization;
using Ingest.Contracts;

namespace Ingest.Worker.Consuming;

/// <summary>Reads an EventBatch's events, refusing a null among them as the contract does (nullable annotations stop at the list).</summary>
public sealed class EventListWithoutNulls : JsonConverter<IReadOnlyList<AnalyticsEvent>>
{
    public override IReadOnlyList<AnalyticsEvent> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("events must be an array.");
        var events = new List<AnalyticsEvent>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            events.Add(JsonSerializer.Deserialize<AnalyticsEvent>(ref reader, options)
                ?? throw new JsonException($"events[{events.Count}] is null."));
        return events;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<AnalyticsEvent> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize<IEnumerable<AnalyticsEvent>>(writer, value, options);
}
