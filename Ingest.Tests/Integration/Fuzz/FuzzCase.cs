using System.IO.Compression;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// One generated request, and the answers the contract of docs/sending-events.md allows for it. <see cref="Json"/> is the body before
/// compression; <see cref="Verdict"/> what its messages deserve.
/// </summary>
public sealed record FuzzCase(string Class, string Path, JsonText Json, string? ContentType, Transport Transport, KeyPlacement Key)
{
    public const int MaxMessageBytes = 32 * 1024;
    public const int MaxBatchBytes = 500 * 1024;
    public const int MaxBatchMessages = 2500;
    public const int MaxDepth = 32;

    /// <summary>
    /// At most what the API adds to a message from this client: <c>"context":{"ip":"127.0.0.0"}</c> (the loopback
    /// address, anonymized; the client sends no User-Agent). A message this close to 32 KB may go either way.
    /// </summary>
    const int AddedByApi = 64;

    static readonly string[] AcceptedContentTypes = ["application/json", "text/plain", "application/json; charset=utf-8", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"];

    public bool IsBatch => Path is "/v1/batch" or "/v1/b";
    public bool IsLegacy => Path.StartsWith("/analytics", StringComparison.Ordinal);
    int Limit => IsBatch || IsLegacy ? MaxBatchBytes : MaxMessageBytes;

    /// <summary>The statuses the contract allows, in the order the API checks a request: a key in the headers (by
    /// authentication, before the body is read), content type, encoding, size after decompression, JSON, the key in
    /// the body, then the messages.</summary>
    public int[] AllowedStatuses()
    {
        if (Key is KeyPlacement.Unknown) return [401]; // both sent as HTTP Basic
        if (Key is KeyPlacement.ReadKey) return [403];
        if (ContentType is null || !AcceptedContentTypes.Contains(ContentType)) return [415];
        if (Transport == Transport.UnknownEncoding) return [415];
        if (Transport == Transport.CorruptGzip && !StillInflatesWhole()) return Json.Bytes.Length > Limit ? [400, 413] : [400];
        if (Json.Bytes.Length > Limit) return [413];
        if (Parse(Json.Bytes) is not { ValueKind: JsonValueKind.Object } root) return [400];
        var nearTheLimit = !IsBatch && !IsLegacy && Json.Bytes.Length > MaxMessageBytes - AddedByApi;
        if (Key is KeyPlacement.Missing) return [401];
        // The corrupt-gzip case sends each message path a message of its type, and /v1/batch and /analytics a lone
        // track message; when the damage missed, those two refuse it for the "batch" or "data" it lacks.
        if (Transport == Transport.CorruptGzip && (IsBatch || IsLegacy)) return [400];
        return (nearTheLimit ? Verdict(root).Worst(Fuzz.Verdict.Either) : Verdict(root)) switch
        {
            Fuzz.Verdict.Accept => [200],
            Fuzz.Verdict.Refuse => [400, 413],
            _ => [200, 400, 413],
        };
    }

    /// <summary>The messages' verdict, and the limits on their number and sizes as stored (batch context merged in).</summary>
    Verdict Verdict(JsonElement root)
    {
        var verdict = Json.Verdict;
        if (verdict == Fuzz.Verdict.Refuse) return verdict; // nothing to add, and its names may not even be readable
        if (IsBatch && root.TryGetProperty("batch", out var batch) && batch.ValueKind == JsonValueKind.Array)
        {
            if (batch.GetArrayLength() > MaxBatchMessages) return Fuzz.Verdict.Refuse;
            var shared = new[] { "context", "integrations" }.Sum(f => root.TryGetProperty(f, out var o) && o.ValueKind == JsonValueKind.Object ? JsonMarshal.GetRawUtf8Value(o).Length : 0);
            var sizes = batch.EnumerateArray().Select(m => JsonMarshal.GetRawUtf8Value(m).Length + shared).ToList();
            if (sizes.Any(s => s > MaxMessageBytes)) return verdict.Worst(shared > 0 ? Fuzz.Verdict.Either : Fuzz.Verdict.Refuse);
            if (sizes.Any(s => s > MaxMessageBytes - AddedByApi)) return verdict.Worst(Fuzz.Verdict.Either);
            if (sizes.Sum() > MaxBatchBytes) return verdict.Worst(Fuzz.Verdict.Either);
            // The API measures the batch as stored, with what it adds to each message (found by the fuzz: a batch of
            // 2,480 messages under 500 KB went over it with each message's context.ip).
            if (sizes.Sum() + (long)AddedByApi * sizes.Count > MaxBatchBytes) return verdict.Worst(Fuzz.Verdict.Either);
        }
        if (IsLegacy && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
        {
            if (data.GetArrayLength() > MaxBatchMessages) return Fuzz.Verdict.Refuse;
            if (data.EnumerateArray().Any(i => JsonMarshal.GetRawUtf8Value(i).Length > MaxMessageBytes)) return Fuzz.Verdict.Refuse;
            if (data.EnumerateArray().Any(i => JsonMarshal.GetRawUtf8Value(i).Length > MaxMessageBytes - AddedByApi)) return verdict.Worst(Fuzz.Verdict.Either);
        }
        return verdict;
    }

    /// <summary>The body as a strict JSON parser reads it (one value, nothing after it, at most 32 levels), or null.</summary>
    public static JsonElement? Parse(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth });
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null; // bytes that are not UTF-8 where the reader decodes them
        }
    }

    public HttpRequestMessage ToRequest(string writeKey, string readKey)
    {
        var key = Key switch
        {
            KeyPlacement.Unknown => "wk_" + new string('x', 40),
            KeyPlacement.ReadKey => readKey,
            _ => writeKey,
        };
        var path = Key == KeyPlacement.InQuery ? $"{Path}?writeKey={Uri.EscapeDataString(key)}" : Path;
        var content = new ByteArrayContent(Encode());
        if (ContentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        switch (Transport)
        {
            case Transport.Identity: content.Headers.ContentEncoding.Add("identity"); break;
            case Transport.Gzip or Transport.CorruptGzip: content.Headers.ContentEncoding.Add("gzip"); break;
            case Transport.Zlib or Transport.RawDeflate: content.Headers.ContentEncoding.Add("deflate"); break;
            case Transport.UnknownEncoding: content.Headers.TryAddWithoutValidation("Content-Encoding", Json.Bytes.Length % 2 == 0 ? "br" : "gzip, br"); break;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Authorization = Key switch
        {
            KeyPlacement.Basic or KeyPlacement.Unknown or KeyPlacement.ReadKey => new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":"))),
            KeyPlacement.Bearer => new AuthenticationHeaderValue("Bearer", key),
            _ => null,
        };
        return request;
    }

    /// <summary>The bytes on the wire.</summary>
    public byte[] Encode()
    {
        switch (Transport)
        {
            case Transport.Gzip: return Compress(s => new GZipStream(s, CompressionLevel.Fastest));
            case Transport.Zlib: return Compress(s => new ZLibStream(s, CompressionLevel.Fastest));
            case Transport.RawDeflate: return Compress(s => new DeflateStream(s, CompressionLevel.Fastest));
            case Transport.CorruptGzip:
                var gzip = Compress(s => new GZipStream(s, CompressionLevel.Fastest));
                // Damage it the ways a network or a broken client does: a flipped byte, a cut, or no gzip at all.
                switch (Json.Bytes.Length % 3)
                {
                    case 0: gzip[gzip.Length / 2] ^= 0x5A; return gzip;
                    case 1: return gzip[..(gzip.Length / 2)];
                    default: return Json.Bytes.Length > 0 ? Json.Bytes : [0x1F];
                }
            default: return Json.Bytes;
        }
    }

    /// <summary>
    /// A damaged gzip body that is whole all the same: a flipped byte in a header field nobody reads (its time, its
    /// operating system), so that it inflates to the original and its trailer (CRC-32 and length) still matches. The
    /// API then reads the same JSON as from an intact body, and answers as it would to that.
    /// </summary>
    bool StillInflatesWhole()
    {
        var damaged = Encode();
        if (damaged.Length != Compress(s => new GZipStream(s, CompressionLevel.Fastest)).Length) return false; // cut short
        try
        {
            using var inflating = new GZipStream(new MemoryStream(damaged), CompressionMode.Decompress);
            using var whole = new MemoryStream();
            inflating.CopyTo(whole);
            return whole.ToArray().AsSpan().SequenceEqual(Json.Bytes);
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    byte[] Compress(Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var compressing = compressor(output)) compressing.Write(Json.Bytes);
        return output.ToArray();
    }

    public override string ToString() => Describe(400);

    /// <summary>The request on one line, its body cut at <paramref name="max"/> bytes, bytes that are not printable ASCII shown as \xNN.</summary>
    public string Describe(int max)
    {
        var body = new StringBuilder();
        foreach (var b in Json.Bytes.Take(max)) body.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        if (Json.Bytes.Length > max) body.Append($"… ({Json.Bytes.Length} bytes)");
        return $"POST {Path} Content-Type: {ContentType ?? "(none)"}, {Transport}, key {Key}: {body}";
    }
}
