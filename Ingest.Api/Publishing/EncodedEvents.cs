using System.Text.Json;
using Ingest.Contracts;
using MassTransit.Serialization;

namespace Ingest.Api.Publishing;

/// <summary>
/// A request's events, serialized for the broker on the request's own path, before they are gathered with other
/// requests' into one broker message: whatever one request holds, it cannot fail the serialization of another's, and
/// the publisher knows each request's size in bytes.
/// </summary>
public sealed class EncodedEvents
{
    EncodedEvents(List<byte[]> events, long bytes) => (Events, Bytes) = (events, bytes);

    public IReadOnlyList<byte[]> Events { get; }
    public long Bytes { get; }
    public int Count => Events.Count;

    /// <summary>Serializes with MassTransit's own options, so the worker reads them as the <see cref="EventBatch"/> it consumes.</summary>
    /// <exception cref="NotSupportedException">An event cannot be written as JSON (never expected once validated).</exception>
    public static EncodedEvents Encode(IReadOnlyList<AnalyticsEvent> events)
    {
        var encoded = new List<byte[]>(events.Count);
        long bytes = 0;
        foreach (var e in events)
        {
            byte[] json;
            try
            {
                json = JsonSerializer.SerializeToUtf8Bytes(e, SystemTextJsonMessageSerializer.Options);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
            {
                throw new NotSupportedException($"Message {e.MessageId} cannot be written as JSON: {ex.Message}", ex);
            }
            encoded.Add(json);
            bytes += json.Length;
        }
        return new(encoded, bytes);
    }
}
