using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Ingest.Api.Tracking;

/// <summary>
/// The parts of a write request every endpoint shares: the content type, the body within its size limit, the JSON
/// within its nesting limit, and the write key in the body.
/// </summary>
public static class TrackingRequest
{
    public const int MaxMessageBytes = 32 * 1024;
    public const int MaxBatchBytes = 500 * 1024;
    public const int MaxBatchMessages = 2500;
    public const int MaxDepth = 32;

    /// <summary>
    /// JSON, declared as application/json; or as text/plain, as Segment's browser library and sendBeacon post it to
    /// avoid a CORS preflight; or as application/x-www-form-urlencoded, as RudderStack's Node SDK posts its gzipped
    /// batches (it sets no type, and its HTTP client, axios, fills in that one). The body must be JSON all the same.
    /// </summary>
    public static Refusal? CheckContentType(HttpRequest request)
    {
        var type = request.ContentType;
        if (type is not null && MediaTypeHeaderValue.TryParse(type, out var media)
            && media.MediaType is "application/json" or "text/plain" or "application/x-www-form-urlencoded"
            && (media.CharSet is null || media.CharSet.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || media.CharSet.Equals("utf8", StringComparison.OrdinalIgnoreCase)))
            return null;
        return new(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
            $"Content-Type '{type ?? "(none)"}' is not accepted: send JSON as application/json (or text/plain), in UTF-8.");
    }

    /// <summary>
    /// The body, decompressed when it says <c>Content-Encoding: gzip</c> or <c>deflate</c> (Segment's mobile and Python
    /// libraries and RudderStack's SDKs compress). The limit applies to the decompressed bytes, and decompression stops
    /// one byte past it, so a small body that would inflate to gigabytes costs no more than the limit.
    /// </summary>
    public static async Task<(byte[]? Body, Refusal? Refusal)> ReadBodyAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        if (encoding.Length == 0 || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            if (request.ContentLength > limit) return (null, TooLarge(limit));
            return await ReadAsync(request.Body, limit, (int?)request.ContentLength ?? 4096, ct);
        }
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || encoding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && !encoding.Equals("deflate", StringComparison.OrdinalIgnoreCase))
            return (null, new(StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding",
                $"Content-Encoding '{encoding}' is not accepted: send the body as it is, or compressed with gzip or deflate."));
        // Compressed, the body can only be smaller than the limit, unless it is not really compressed.
        if (request.ContentLength > limit) return (null, TooLarge(limit));
        var (compressed, tooLarge) = await ReadAsync(request.Body, limit, (int?)request.ContentLength ?? 4096, ct);
        if (tooLarge is not null) return (null, tooLarge);
        try
        {
            await using Stream inflating = gzip ? new GZipStream(new MemoryStream(compressed!), CompressionMode.Decompress)
                : IsZlib(compressed!) ? new ZLibStream(new MemoryStream(compressed!), CompressionMode.Decompress)
                : new DeflateStream(new MemoryStream(compressed!), CompressionMode.Decompress); // raw deflate, as some clients send it
            var (body, refusal) = await ReadAsync(inflating, limit, Math.Min(limit + 1, compressed!.Length * 4 + 1024), ct);
            if (gzip && body is not null && !GzipTrailerMatches(compressed, body))
                return (null, new(StatusCodes.Status400BadRequest, "Invalid compressed body",
                    $"The body is not valid {encoding} data: it was cut short or damaged (its length or CRC-32 does not match)."));
            return (body, refusal);
        }
        catch (InvalidDataException)
        {
            return (null, new(StatusCodes.Status400BadRequest, "Invalid compressed body", $"The body is not valid {encoding} data."));
        }
    }

    /// <summary>
    /// A gzip body ends with the CRC-32 and the length of what it holds. GZipStream stops without complaint at a body
    /// cut short, and does not always notice a damaged one, so the API checks them itself (one gzip member, as HTTP
    /// clients send).
    /// </summary>
    static bool GzipTrailerMatches(byte[] compressed, byte[] body) =>
        compressed.Length >= 18
        && BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(^8)) == System.IO.Hashing.Crc32.HashToUInt32(body)
        && BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(^4)) == (uint)body.Length;

    /// <summary>HTTP's "deflate" is zlib (RFC 1950): a header whose first byte names deflate and whose 16 bits are a multiple of 31.</summary>
    static bool IsZlib(byte[] body) => body.Length >= 2 && (body[0] & 0x0F) == 8 && ((body[0] << 8) | body[1]) % 31 == 0;

    /// <summary>Reads at most limit + 1 bytes: one more than the limit tells it was passed.</summary>
    static async Task<(byte[]? Body, Refusal? Refusal)> ReadAsync(Stream stream, int limit, int expected, CancellationToken ct)
    {
        var buffer = new byte[Math.Clamp(expected, 1, limit + 1)];
        var read = 0;
        try
        {
            while (true)
            {
                if (read == buffer.Length)
                {
                    if (read > limit) return (null, TooLarge(limit));
                    Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, limit + 1L));
                }
                var n = await stream.ReadAsync(buffer.AsMemory(read), ct);
                if (n == 0) break;
                read += n;
            }
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own verdict on the request (a body arriving too slowly, a malformed chunk, a length mismatch): its status, not a 500.
            return (null, new(e.StatusCode, "Bad request body", e.Message));
        }
        if (read > limit) return (null, TooLarge(limit));
        return (read == buffer.Length ? buffer : buffer[..read], null);
    }

    public static Refusal TooLarge(int limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body is larger than {limit / 1024} KB.");

    public static (JsonElement Root, Refusal? Refusal) Parse(byte[] body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth });
            var root = JsonElement.ParseValue(ref reader);
            if (reader.Read()) // throws on anything but whitespace after the object
                return (default, new(StatusCodes.Status400BadRequest, "Invalid JSON", "The body holds more than one JSON value."));
            return root.ValueKind == JsonValueKind.Object
                ? (root, null)
                : (default, new(StatusCodes.Status400BadRequest, "Invalid JSON", "The body must be a JSON object."));
        }
        catch (JsonException e) when (e.Message.Contains("depth", StringComparison.OrdinalIgnoreCase))
        {
            return (default, new(StatusCodes.Status400BadRequest, "JSON nested too deeply", $"The body nests objects or arrays deeper than {MaxDepth} levels."));
        }
        catch (JsonException e)
        {
            return (default, new(StatusCodes.Status400BadRequest, "Invalid JSON", $"The body is not valid JSON: {e.Message}"));
        }
    }

    /// <summary>
    /// <c>writeKey</c> in the body, as Segment's spec allows: the one place of a key that authentication cannot read
    /// (<see cref="Keys.KeyAuthenticationHandler"/> reads the headers and the query), so the endpoint reads it.
    /// </summary>
    public static string? KeyFromBody(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("writeKey", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString() : null;
}
