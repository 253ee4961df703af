using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ingest.Api.Tracking;

/// <summary>
/// The messageId of a message that came without one, derived from its source, the request body's bytes and the
/// message's place in the body (as the seeds' engine derived it from the content): a client that retries the same
/// body after a 503 or a lost answer gets the same ids, and storage, idempotent on (source, messageId), keeps one copy.
/// The body is hashed once, however many messages it holds.
/// </summary>
public sealed class MessageIds(ReadOnlyMemory<byte> body)
{
    public static readonly MessageIds None = new(ReadOnlyMemory<byte>.Empty);

    byte[]? _bodyDigest;

    /// <returns>A UUID (version 8, "custom") made of the first 16 bytes of SHA-256(source, body digest, position).</returns>
    public string For(string sourceId, int position)
    {
        _bodyDigest ??= SHA256.HashData(body.Span);
        var source = Encoding.UTF8.GetBytes(sourceId);
        var input = new byte[source.Length + 1 + _bodyDigest.Length + sizeof(int)];
        source.CopyTo(input, 0);
        _bodyDigest.CopyTo(input, source.Length + 1);
        BinaryPrimitives.WriteInt32BigEndian(input.AsSpan(^sizeof(int)), position);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash[..16], bigEndian: true).ToString();
    }
}
