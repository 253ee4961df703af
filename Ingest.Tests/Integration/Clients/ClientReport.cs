using System.Text.Json;

namespace Ingest.Tests.Integration.Clients;

/// <summary>What a client script (Clients/node/*.js) says it did: the events it gave the library, each with the
/// library's callback outcome, and every HTTP request the library made, with the API's answer.</summary>
public sealed record ClientReport(
    string Library,
    string Version,
    JsonElement Defaults,
    IReadOnlyList<ClientReport.SentEvent> Events,
    IReadOnlyList<ClientReport.Request> Requests,
    IReadOnlyDictionary<string, int> Unhandled)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static ClientReport Read(string path) =>
        JsonSerializer.Deserialize<ClientReport>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty");

    /// <summary>One call (track, identify, page) as the script made it, and what the library's callback said ("sent" or the error).</summary>
    public sealed record SentEvent(string Type, JsonElement Message, string Outcome)
    {
        JsonElement Fields => Message.TryGetProperty("properties", out var p) ? p : Message.GetProperty("traits");

        public int Seq => Fields.GetProperty("seq").GetInt32();

        /// <summary>The event name of a track, the page name of a page, nothing for an identify.</summary>
        public string? Name => Message.TryGetProperty("event", out var e) ? e.GetString() : Message.TryGetProperty("name", out var n) ? n.GetString() : null;

        public string UserId => Message.GetProperty("userId").GetString()!;
    }

    /// <summary>One HTTP request as Node's client published it on its diagnostics channel.</summary>
    public sealed record Request(string Method, string Path, string? ContentType, string? ContentEncoding, int? Status, string Answer)
    {
        public override string ToString() =>
            $"{Method} {Path} (Content-Type: {ContentType ?? "none"}, Content-Encoding: {ContentEncoding ?? "none"}) answered {Status?.ToString() ?? "nothing"} {Answer}";
    }
}
