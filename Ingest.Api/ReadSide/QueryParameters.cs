using System.Globalization;

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

    /// <summary>The page of a keyset-paged list that limit and cursor ask for (<see cref="Paging"/>).</summary>
    public Paging Page(KeysetCursor cursors, string scope) => Page(cursors, scope, Limit());

    /// <summary>The page that cursor asks for, of <paramref name="limit"/> rows; a cursor not given out for <paramref name="scope"/> is an error.</summary>
    public Paging Page(KeysetCursor cursors, string scope, int limit)
    {
        KeysetCursor.Position? after = null;
        if (Text("cursor") is { } text && !cursors.TryDecode(text, scope, out after))
            Fail("cursor", "is not a cursor this query gave out: pass the nextCursor of the previous page unchanged, with the same filters.");
        return new Paging(cursors, scope, limit, after);
    }

    public void Fail(string name, string message) => Errors[name] = [$"{name}: {message}"];
}
