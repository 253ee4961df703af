using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ingest.Broker.DeadLetters;

/// <summary>
/// A privacy request's subjects in a dead letter's body: the events (JSON objects with <c>sourceId</c> and
/// <c>userId</c> or <c>anonymousId</c>, wherever they sit in a MassTransit envelope or a raw batch) of one source whose
/// userId or anonymousId is among the subjects. A dead letter is a message the worker could not read, so nothing else
/// of its shape is assumed; a body that is not JSON holds no event that can be told apart, and is left as it is.
/// </summary>
public sealed class DeadLetterSubjects(string sourceId, IReadOnlySet<string> userIds, IReadOnlySet<string> anonymousIds)
{
    /// <summary>How many of the subjects' events the body holds.</summary>
    public int Count(byte[] body) => Parse(body) is { } root ? Walk(root, remove: false) : 0;

    /// <summary>
    /// The body without the subjects' events, and how many were removed: the same body when none was, and null when
    /// the message held nothing else (every array that held events is empty now), so it can go whole.
    /// </summary>
    public (byte[]? Body, int Removed) Strip(byte[] body)
    {
        if (Parse(body) is not { } root) return (body, 0);
        var removed = Walk(root, remove: true);
        if (removed == 0) return (body, 0);
        return (HoldsEvents(root) ? JsonSerializer.SerializeToUtf8Bytes(root) : null, removed);
    }

    static JsonNode? Parse(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    int Walk(JsonNode? node, bool remove)
    {
        var found = 0;
        switch (node)
        {
            case JsonArray array:
                for (var i = array.Count - 1; i >= 0; i--)
                {
                    if (IsSubjectsEvent(array[i]))
                    {
                        found++;
                        if (remove) array.RemoveAt(i);
                    }
                    else found += Walk(array[i], remove);
                }
                break;
            case JsonObject obj:
                foreach (var (_, child) in obj.ToList()) found += Walk(child, remove);
                break;
        }
        return found;
    }

    bool IsSubjectsEvent(JsonNode? node) =>
        node is JsonObject e && Text(e, "sourceId") == sourceId
        && ((Text(e, "userId") is { } user && userIds.Contains(user)) || (Text(e, "anonymousId") is { } anonymous && anonymousIds.Contains(anonymous)));

    /// <summary>Whether any array in the body still holds an event (an object with a sourceId).</summary>
    static bool HoldsEvents(JsonNode? node) => node switch
    {
        JsonArray array => array.Any(item => item is JsonObject o && o.ContainsKey("sourceId") || HoldsEvents(item)),
        JsonObject obj => obj.Any(p => HoldsEvents(p.Value)),
        _ => false,
    };

    static string? Text(JsonObject e, string name) =>
        e.TryGetPropertyValue(name, out var value) && value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
