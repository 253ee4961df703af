using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ingest.Api.Publishing;

/// <summary>Written as a JSON array of the events' JSON, copied as it is.</summary>
[JsonConverter(typeof(Converter))]
public sealed class EncodedEventList(IReadOnlyList<EncodedEvents> requests)
{
    public IReadOnlyList<EncodedEvents> Requests { get; } = requests;

    sealed class Converter : JsonConverter<EncodedEventList>
    {
        public override EncodedEventList Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("The API only writes encoded events.");

        public override void Write(Utf8JsonWriter writer, EncodedEventList value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            foreach (var request in value.Requests)
                foreach (var json in request.Events)
                    writer.WriteRawValue(json, skipInputValidation: true);
            writer.WriteEndArray();
        }
    }
}
