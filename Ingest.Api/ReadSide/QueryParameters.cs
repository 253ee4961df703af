using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ingest.Api.ReadSide;

/// <summary>
/// Reads the query string of a read request, collecting an error per bad parameter (named as the client wrote it), so a
/// handler answers one 400 that lists them all.
/// </summary>
public sealed class QueryParameters(IQueryCollection query)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public Dictionary<string, string[]> Errors { get; } = [];
    public bool IsValid => Errors.Count == 0;

    public string? Text(string name)
    {
        var value = query[name].ToString();
        // PostgreSQL refuses NUL in text (22021): a 400 naming the parameter, not a 500 for the database's refusal.
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            Fail(name, "must not contain a NUL character (U+0000).");
            return null;
        }
        return value.Length == 0 ? null : value;
    }

    /// <summary>An ISO 8601 instant; without an offset it is taken as UTC.</summary>
    public DateTimeOffset? Instant(string name)
    {
        if (Text(name) is not { } text) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
            return value.ToUniversalTime();
        Fail(name, $"'{text}' is not an ISO 8601 date and time, for example 2026-11-22T10:00:00Z.");
        return null;
    }

    public int Limit(string name = "limit", int defaultValue = DefaultLimit, int max = MaxLimit)
    {
        if (Text(name) is not { } text) return defaultValue;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= max) return value;
        Fail(name, $"must be a whole number from 1 to {max}.");
        return defaultValue;
    }

    public string? OneOf(string name, params string[] allowed)
    {
        if (Text(name) is not { } text) return null;
        if (allowed.Contains(text)) return text;
        Fail(name, $"must be one of {string.Join(", ", allowed)}.");
        return null;
    }

    /// <summary>from before to, when both are given.</summary>
    public void CheckRange(DateTimeOffset? from, DateTimeOffset? to, TimeSpan? maxSpan = null)
    {
        if (from is { } f && to is { } t)
        {
            if (f >= t) Fail("to", "must be later than from.");
            else if (maxSpan is { } max && t - f > max) Fail("to", $"the range from..to may span at most {max.TotalDays:0.##} days at this interval.");
        }
    }

    /// <summary>from and to (to defaults to now, from to <paramref name="defaultSpan"/> before to), at most <paramref name="maxSpan"/> apart.</summary>
    public (DateTimeOffset From, DateTimeOffset To) Range(TimeProvider time, TimeSpan defaultSpan, TimeSpan maxSpan)
    {
        var to = Instant("to") ?? time.GetUtcNow();
        var from = Instant("from") ?? to - defaultSpan;
        CheckRange(from, to, maxSpan);
        return (from, to);
    }

    public Cursor.Position? Cursor(Cursor cursors, string scope)
    {
        if (Text("cursor") is not { } text) return null;
        if (cursors.TryDecode(text, scope, out var position)) return position;
        Fail("cursor", "is not a cursor this query gave out: pass the nextCursor of the previous page unchanged, with the same filters.");
        return null;
    }

    public void Fail(string name, string message) => Errors[name] = [$"{name}: {message}"];
}

/// <summary>
/// An opaque keyset-pagination cursor: the (time, id) of the last row of a page, signed with HMAC-SHA256 over the
/// position and the query's filters, base64url-encoded. A tampered cursor, or one from another query or source, is refused.
/// </summary>
public sealed class Cursor(byte[] key)
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
        return Base64Url(payload.Concat(Mac(payload, scope)).ToArray());
    }

    public bool TryDecode(string text, string scope, out Position? position)
    {
        position = null;
        byte[] bytes;
        try
        {
            bytes = FromBase64Url(text);
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

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
