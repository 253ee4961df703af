using System.Runtime.InteropServices;
using System.Text.Json;
using Ingest.Contracts;

namespace Ingest.Api.Tracking;

/// <summary>
/// The seeds' own wire format, kept working: <c>{"product": 0–10, "pennkey": string|null, "timestamp": unix seconds,
/// "data": [{"key", "value", "timestamp"?}]}</c>. Each item becomes a track event: event = key, properties.value = value,
/// userId = pennkey (anonymousId "anonymous" when there is none), the product kept in properties.product.
/// </summary>
public static class LegacyAnalytics
{
    public const int MaxProduct = 10;

    public static MessagesRead Read(JsonElement root, SegmentMessage.Envelope envelope)
    {
        var errors = new List<FieldError>();
        // First: a string that is not Unicode text cannot even be read as a field.
        if (StorableJson.FindProblem(root) is { } unstorable)
            return new([], new() { [""] = [unstorable] });
        int product = 0;
        if (!root.TryGetProperty("product", out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out product) || product is < 0 or > MaxProduct)
            errors.Add(new("product", $"is required: a whole number from 0 to {MaxProduct}"));
        string? pennkey = null;
        if (root.TryGetProperty("pennkey", out var k) && k.ValueKind != JsonValueKind.Null)
        {
            if (k.ValueKind == JsonValueKind.String && k.GetString() is { Length: > 0 and <= SegmentMessage.MaxIdLength } key) pennkey = key;
            else errors.Add(new("pennkey", $"must be a string of 1 to {SegmentMessage.MaxIdLength} characters, or null"));
        }
        var timestamp = UnixSeconds(root, "timestamp", errors, required: true);
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() == 0)
            errors.Add(new("data", "is required: a non-empty array of {key, value, timestamp?}"));
        else if (data.GetArrayLength() > TrackingRequest.MaxBatchMessages)
            return new([], [], new(StatusCodes.Status413PayloadTooLarge, "Too many items", $"data holds {data.GetArrayLength()} items, more than {TrackingRequest.MaxBatchMessages}."));
        if (errors.Count > 0) return new([], new() { [""] = errors });

        var events = new List<AnalyticsEvent>(data.GetArrayLength());
        var itemErrors = new Dictionary<string, List<FieldError>>();
        var index = 0;
        foreach (var item in data.EnumerateArray())
        {
            var position = index++;
            var prefix = $"data[{position}]";
            var errorsOfItem = new List<FieldError>();
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("key", out var keyElement) || keyElement.ValueKind != JsonValueKind.String || keyElement.GetString() is not { Length: > 0 } eventName)
            {
                itemErrors[prefix] = [new("key", "is required: a non-empty string")];
                continue;
            }
            if (eventName.Length > SegmentMessage.MaxNameLength)
            {
                itemErrors[prefix] = [new("key", $"is longer than {SegmentMessage.MaxNameLength} characters")];
                continue;
            }
            if (JsonMarshal.GetRawUtf8Value(item).Length + (envelope.Client?.AddedBytes(default, null) ?? 0) > TrackingRequest.MaxMessageBytes)
            {
                itemErrors[prefix] = [new("", $"is larger than {TrackingRequest.MaxMessageBytes / 1024} KB with the context.ip and context.userAgent the API adds")];
                continue;
            }
            var itemTime = UnixSeconds(item, "timestamp", errorsOfItem, required: false) ?? timestamp;
            if (errorsOfItem.Count > 0)
            {
                itemErrors[prefix] = errorsOfItem;
                continue;
            }
            var (corrected, clamped) = ClockSkew.Correct(itemTime, null, envelope.ReceivedAt)!.Value; // without sentAt nothing is computed
            var value = item.TryGetProperty("value", out var v) ? v : default;
            events.Add(new AnalyticsEvent
            {
                SourceId = envelope.SourceId,
                MessageId = envelope.DerivedMessageId(position),
                Type = "track",
                Event = eventName,
                UserId = pennkey,
                AnonymousId = pennkey is null ? "anonymous" : null,
                Timestamp = corrected,
                OriginalTimestamp = itemTime,
                ReceivedAt = envelope.ReceivedAt,
                TimestampClamped = clamped,
                Properties = JsonSerializer.SerializeToElement(new LegacyProperties(value.ValueKind == JsonValueKind.Undefined ? null : value, product)),
                Context = envelope.Client?.Context(null, null), // the format has no context: the client's ip and userAgent only, one copy for all items
            });
        }
        return new(events, itemErrors);
    }

    sealed record LegacyProperties(JsonElement? value, int product);

    static DateTimeOffset? UnixSeconds(JsonElement element, string field, List<FieldError> errors, bool required)
    {
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) errors.Add(new(field, "is required: unix time in seconds"));
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && seconds is >= 0 and < 253402300800)
            return DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
        errors.Add(new(field, "must be unix time in seconds"));
        return null;
    }
}
