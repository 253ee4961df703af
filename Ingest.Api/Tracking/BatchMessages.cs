using System.Runtime.InteropServices;
using System.Text.Json;
using Ingest.Contracts;

namespace Ingest.Api.Tracking;

/// <summary>
/// Reads a Segment batch (<c>/v1/batch</c>): each message measured as it will be stored, with the batch's own context,
/// integrations and sentAt merged into it; a message refused alone, the rest accepted.
/// </summary>
public static class BatchMessages
{
    public static MessagesRead Read(JsonElement root, SegmentMessage.Envelope envelope)
    {
        var events = new List<AnalyticsEvent>();
        var errors = new Dictionary<string, List<FieldError>>();
        if (!root.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
        {
            errors["batch"] = [new("", "is required: an array of messages")];
            return new(events, errors);
        }
        if (batch.GetArrayLength() > TrackingRequest.MaxBatchMessages)
            return new(events, errors, new(StatusCodes.Status413PayloadTooLarge, "Too many messages",
                $"The batch holds {batch.GetArrayLength()} messages, more than {TrackingRequest.MaxBatchMessages}."));
        var batchContext = BatchObject(root, "context", errors);
        var batchIntegrations = BatchObject(root, "integrations", errors);
        var batchSentAt = BatchTime(root, "sentAt", errors);
        if (errors.Count > 0) return new(events, new() { [""] = errors.Values.SelectMany(e => e).ToList() });
        envelope = envelope with
        {
            BatchSentAt = batchSentAt,
            BatchContext = envelope.Client is { } client ? client.Prepare(batchContext) : batchContext,
            BatchIntegrations = batchIntegrations,
        };
        // A message is measured as it will be stored: with the batch's context and integrations merged into it. So a
        // small batch cannot ask for a large shared context to be copied into each of its many messages.
        var shared = (batchContext is { } c ? JsonMarshal.GetRawUtf8Value(c).Length : 0) + (batchIntegrations is { } i ? JsonMarshal.GetRawUtf8Value(i).Length : 0);
        var index = 0;
        long stored = 0;
        foreach (var message in batch.EnumerateArray())
        {
            var position = index++;
            var prefix = $"batch[{position}]";
            var added = envelope.Client?.AddedBytes(message, batchContext) ?? 0;
            var size = JsonMarshal.GetRawUtf8Value(message).Length + shared + added;
            if (size > TrackingRequest.MaxMessageBytes)
            {
                errors[prefix] = [new("", shared == 0 && added == 0 ? $"is larger than {TrackingRequest.MaxMessageBytes / 1024} KB"
                    : $"is larger than {TrackingRequest.MaxMessageBytes / 1024} KB with the batch's context and integrations and the API's context.ip and context.userAgent merged into it")];
                continue;
            }
            var (evt, messageErrors) = SegmentMessage.Read(message, null, envelope, position);
            if (evt is not null)
            {
                events.Add(evt);
                stored += size;
            }
            else errors[prefix] = messageErrors;
        }
        if (stored > TrackingRequest.MaxBatchBytes)
            return new([], [], new(StatusCodes.Status413PayloadTooLarge, "Batch too large as stored",
                $"With the batch's context and integrations ({shared} bytes) merged into each of its {events.Count} messages, the batch would store {stored / 1024} KB, more than {TrackingRequest.MaxBatchBytes / 1024} KB. Send the context with each message, or fewer messages a batch."));
        return new(events, errors);
    }

    /// <summary>The batch's sentAt: read and refused as a message's own, once it is known to be text.</summary>
    static DateTimeOffset? BatchTime(JsonElement root, string field, Dictionary<string, List<FieldError>> errors)
    {
        var problems = new List<FieldError>();
        if (root.TryGetProperty(field, out var value) && StorableJson.FindProblem(value, field) is { } problem) problems.Add(problem);
        var time = problems.Count == 0 ? SegmentMessage.Time(root, field, problems) : null;
        if (problems.Count > 0) errors[field] = problems;
        return time;
    }

    /// <summary>The batch's own context or integrations: an object whose every value can be stored, or null.</summary>
    static JsonElement? BatchObject(JsonElement root, string field, Dictionary<string, List<FieldError>> errors)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object) errors[field] = [new(field, "must be a JSON object")];
        else if (StorableJson.FindProblem(value, field) is { } problem) errors[field] = [problem];
        else return value;
        return null;
    }
}
