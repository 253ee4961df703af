using System.Buffers;
using System.Text.Json;

namespace Ingest.Api.Tracking;

/// <summary>
/// What the API adds to a request's messages about the client that sent them: <c>context.ip</c> (the connection's
/// address, which the forwarded headers middleware has already replaced by X-Forwarded-For's when the peer is a
/// trusted proxy) and <c>context.userAgent</c>, each only where a message has none, and the source's
/// <see cref="IpPolicy"/> applied to every <c>context.ip</c>. Worked out once per request, so each message costs at
/// most one copy of its context, and none when it has no context of its own.
/// </summary>
public sealed class ClientContext
{
    /// <summary>
    /// A longer User-Agent header is cut to this many characters: it is text the client chose, and a 32 KB header must
    /// not make a message larger than its limit or crowd out the client's own fields.
    /// </summary>
    public const int MaxUserAgentLength = 512;

    /// <summary>What <c>"context":{},</c> costs a message that had no context.</summary>
    const int ContextBytes = 13;

    readonly IpPolicy _policy;
    readonly string? _ip;
    readonly string? _userAgent;
    readonly int _ipBytes, _userAgentBytes;
    JsonElement? _addedOnly;

    ClientContext(IpPolicy policy, string? ip, string? userAgent)
    {
        (_policy, _ip, _userAgent) = (policy, ip, userAgent);
        if (ip is not null) _ipBytes = "\"ip\":\"\",".Length + JsonEncodedText.Encode(ip).EncodedUtf8Bytes.Length;
        if (userAgent is not null) _userAgentBytes = "\"userAgent\":\"\",".Length + JsonEncodedText.Encode(userAgent).EncodedUtf8Bytes.Length;
    }

    public static ClientContext Of(HttpContext http, IpPolicy policy) =>
        new(policy, ClientIp.Record(policy, http.Connection.RemoteIpAddress), UserAgent(http.Request.Headers.UserAgent.ToString()));

    /// <summary>The header cut to <see cref="MaxUserAgentLength"/> characters (not inside a surrogate pair); none when empty or holding a NUL, which PostgreSQL cannot store.</summary>
    static string? UserAgent(string header)
    {
        if (header.Length == 0 || header.Contains('\0')) return null;
        if (header.Length <= MaxUserAgentLength) return header;
        var cut = char.IsHighSurrogate(header[MaxUserAgentLength - 1]) ? MaxUserAgentLength - 1 : MaxUserAgentLength;
        return header[..cut];
    }

    /// <summary>
    /// The bytes this adds to a message as stored (its own context and the batch's, unprepared): a message is measured
    /// with them against its 32 KB, as with the batch's context.
    /// </summary>
    public int AddedBytes(JsonElement message, JsonElement? batchContext)
    {
        // A property name PostgreSQL cannot store (a lone surrogate) makes a lookup by name throw (found by the fuzz: a
        // 500). Such a message is refused by SegmentMessage.Read, which names the property, so it adds nothing here.
        if (message.ValueKind == JsonValueKind.Object && StorableJson.FindNameProblem(message) is not null) return 0;
        JsonElement? own = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("context", out var c) && c.ValueKind == JsonValueKind.Object ? c : null;
        if (own is { } context && StorableJson.FindNameProblem(context) is not null) return 0;
        var bytes = (_ip is not null && !Has(own, "ip") && !Has(batchContext, "ip") ? _ipBytes : 0)
            + (_userAgent is not null && !Has(own, "userAgent") && !Has(batchContext, "userAgent") ? _userAgentBytes : 0);
        return bytes > 0 && own is null && batchContext is null ? bytes + ContextBytes : bytes;
    }

    /// <summary>A batch's own context made ready once for all its messages: the policy applied to its ip, the client's filled in.</summary>
    public JsonElement? Prepare(JsonElement? batchContext) => batchContext is null ? null : Context(batchContext, null);

    /// <summary>
    /// A message's context as stored: its own merged with the batch's (<see cref="SegmentMessage.Merge"/>; the batch's
    /// already <see cref="Prepare"/>d), the policy applied to its own ip, the ip and userAgent added where neither has one.
    /// </summary>
    public JsonElement? Context(JsonElement? own, JsonElement? preparedBatch)
    {
        if (own is not { } mine) return preparedBatch ?? AddedOnly();
        var hasIp = mine.TryGetProperty("ip", out var sentIp);
        string? rewrittenIp = null;
        var rewriteIp = hasIp && ClientIp.MustRewrite(_policy, sentIp, out rewrittenIp);
        var addIp = !hasIp && _ip is not null && !Has(preparedBatch, "ip");
        var addUserAgent = _userAgent is not null && !Has(mine, "userAgent") && !Has(preparedBatch, "userAgent");
        if (!rewriteIp && !addIp && !addUserAgent) return SegmentMessage.Merge(own, preparedBatch);

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (preparedBatch is { } shared)
                foreach (var property in shared.EnumerateObject())
                    if (!mine.TryGetProperty(property.Name, out _)) property.WriteTo(writer);
            foreach (var property in mine.EnumerateObject())
            {
                if (!rewriteIp || !property.NameEquals("ip")) property.WriteTo(writer);
                else if (rewrittenIp is not null) writer.WriteString("ip", rewrittenIp);
            }
            if (addIp) writer.WriteString("ip", _ip);
            if (addUserAgent) writer.WriteString("userAgent", _userAgent);
            writer.WriteEndObject();
        }
        var reader = new Utf8JsonReader(buffer.WrittenSpan);
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>The context of a message that has none: the same for every such message of the request, so made once.</summary>
    JsonElement? AddedOnly()
    {
        if (_ip is null && _userAgent is null) return null;
        if (_addedOnly is null)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                if (_ip is not null) writer.WriteString("ip", _ip);
                if (_userAgent is not null) writer.WriteString("userAgent", _userAgent);
                writer.WriteEndObject();
            }
            var reader = new Utf8JsonReader(buffer.WrittenSpan);
            _addedOnly = JsonElement.ParseValue(ref reader);
        }
        return _addedOnly;
    }

    /// <summary>
    /// Whether the context names the property. A name escaping a lone surrogate cannot be compared (System.Text.Json
    /// throws); such a message is refused by its validation (<see cref="StorableJson"/>) right after this is asked, so
    /// it counts as present and nothing is added to it.
    /// </summary>
    static bool Has(JsonElement? context, string property)
    {
        if (context is not { } c) return false;
        try
        {
            return c.TryGetProperty(property, out _);
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}
