using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Ingest.Api.ReadSide;

/// <summary>
/// An opaque keyset-pagination cursor: the (time, id) of the last row of a page, signed with HMAC-SHA256 over the
/// position and the page's scope (<see cref="Paging.Scope"/>), base64url-encoded. A tampered cursor, or one from another
/// list, filters or source, is refused. The key is <see cref="QueryOptions.CursorKey"/>, the same on every instance.
/// </summary>
public sealed class KeysetCursor(byte[] key)
{
    const byte Version = 1;
    const int MacLength = 16;

    public sealed record Position(DateTime Time, string Id);

    public string Encode(DateTime time, string id, string scope)
    {
        var idBytes = Encoding.UTF8.GetBytes(id);
        var payload = new byte[1 + 8 + idBytes.Length];
        payload[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(1), time.ToUniversalTime().Ticks);
        idBytes.CopyTo(payload, 9);
        return Base64Url.EncodeToString([.. payload, .. Mac(payload, scope)]);
    }

    public bool TryDecode(string text, string scope, out Position? position)
    {
        position = null;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            return false;
        }
        if (bytes.Length < 1 + 8 + MacLength || bytes[0] != Version) return false;
        var payload = bytes.AsSpan(0, bytes.Length - MacLength);
        if (!CryptographicOperations.FixedTimeEquals(Mac(payload, scope), bytes.AsSpan(bytes.Length - MacLength))) return false;
        var ticks = BinaryPrimitives.ReadInt64BigEndian(payload[1..]);
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks) return false;
        position = new(new DateTime(ticks, DateTimeKind.Utc), Encoding.UTF8.GetString(payload[9..]));
        return true;
    }

    byte[] Mac(ReadOnlySpan<byte> payload, string scope)
    {
        var scopeBytes = Encoding.UTF8.GetBytes(scope);
        var message = new byte[payload.Length + 1 + scopeBytes.Length];
        payload.CopyTo(message);
        message[payload.Length] = 0;
        scopeBytes.CopyTo(message, payload.Length + 1);
        return HMACSHA256.HashData(key, message)[..MacLength];
    }
}
