using System.Text.Json.Serialization;

namespace Ingest.Api.Tracking;

/// <summary>
/// What a source stores of a client's IP in <c>context.ip</c>, whether the API recorded it or the client sent it
/// (<c>sources.ip_policy</c>, set with <c>Ingest.Worker source set &lt;id&gt; --ip</c>). Named in the snapshot as in the
/// database, so the words are the same everywhere.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<IpPolicy>))]
public enum IpPolicy
{
    /// <summary>The default: an IP is personal data, and a network (/24, /48) is enough for geography and abuse counts.</summary>
    [JsonStringEnumMemberName("anonymize")] Anonymize,
    [JsonStringEnumMemberName("keep")] Keep,
    [JsonStringEnumMemberName("drop")] Drop,
}
