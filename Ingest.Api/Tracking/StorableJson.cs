using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace Ingest.Api.Tracking;

/// <summary>
/// What PostgreSQL (text and jsonb) and the broker's JSON cannot carry, found before a message is accepted, so that the
/// client hears it at once with the field's path, instead of a 200 followed by a quarantine, or a serialization failure
/// that would take the other requests gathered into the same broker message down with it: a NUL character, bytes that
/// are not UTF-8, a lone UTF-16 surrogate escape (<c>"\ud800"</c>), a number outside PostgreSQL's numeric range.
/// </summary>
public static class StorableJson
{
    /// <summary>The most digits after the decimal point PostgreSQL's numeric (and so jsonb) holds.</summary>
    public const int MaxNumericScale = 16383;

    /// <returns>The JSON path (relative to <paramref name="path"/>) of the first value or property name that cannot be
    /// stored, and why; or null.</returns>
    public static FieldError? FindProblem(JsonElement element, string path = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return StringProblem(JsonMarshal.GetRawUtf8Value(element)) is { } reason ? new(path, reason) : null;
            case JsonValueKind.Number:
                return NumberProblem(JsonMarshal.GetRawUtf8Value(element)) is { } number ? new(path, number) : null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (StringProblem(JsonMarshal.GetRawUtf8PropertyName(property)) is { } nameProblem)
                        return new(Child(path, ReadableName(property)), $"is a property name that {nameProblem}");
                    if (FindProblem(property.Value, Child(path, property.Name)) is { } found) return found;
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                    if (FindProblem(item, $"{path}[{i++}]") is { } found) return found;
                return null;
            default:
                return null;
        }
    }

    /// <summary>The name as text where it can be read (a NUL can), "(name)" where it cannot (not Unicode).</summary>
    static string ReadableName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return "(name)";
        }
    }

    /// <summary>The first of the object's own property names (not its values') that cannot be stored. Looking a
    /// property up by name reads every name, so a body's names are checked before anything is looked up in it.</summary>
    public static FieldError? FindNameProblem(JsonElement obj)
    {
        foreach (var property in obj.EnumerateObject())
            if (StringProblem(JsonMarshal.GetRawUtf8PropertyName(property)) is { } problem)
                return new(ReadableName(property), $"is a property name that {problem}");
        return null;
    }

    static string Child(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    /// <param name="raw">The string as it stands in the body, without its quotes, escapes not yet undone.</param>
    static string? StringProblem(ReadOnlySpan<byte> raw)
    {
        if (!Utf8.IsValid(raw)) return "is not valid UTF-8";
        if (raw.IndexOf((byte)'\\') < 0) return null;
        // Escapes: only they can spell U+0000 or a lone surrogate.
        for (var i = raw.IndexOf("\\u"u8); i >= 0 && i + 6 <= raw.Length; i = NextEscape(raw, i))
        {
            if (!ushort.TryParse(raw.Slice(i + 2, 4), System.Globalization.NumberStyles.HexNumber, null, out var unit)) continue;
            if (unit == 0) return "contains a NUL character (U+0000), which cannot be stored";
            if (char.IsHighSurrogate((char)unit))
            {
                // A high surrogate must be followed at once by an escaped low one.
                var next = i + 6;
                if (next + 6 <= raw.Length && raw[next] == '\\' && raw[next + 1] == 'u'
                    && ushort.TryParse(raw.Slice(next + 2, 4), System.Globalization.NumberStyles.HexNumber, null, out var low) && char.IsLowSurrogate((char)low))
                {
                    i = next;
                    continue;
                }
                return "contains a lone UTF-16 surrogate escape, which is not Unicode text";
            }
            if (char.IsLowSurrogate((char)unit)) return "contains a lone UTF-16 surrogate escape, which is not Unicode text";
        }
        return null;
    }

    /// <summary>The next \u escape after the one at <paramref name="i"/>, stepping over escaped backslashes.</summary>
    static int NextEscape(ReadOnlySpan<byte> raw, int i)
    {
        for (var j = i + 6; j < raw.Length - 1; j++)
        {
            if (raw[j] != '\\') continue;
            if (raw[j + 1] == 'u') return j;
            j++; // \\, \", \n…: the next byte is escaped, not an escape
        }
        return -1;
    }

    /// <summary>jsonb stores numbers as numeric: up to 131,072 digits before the point and 16,383 after. Numbers are
    /// held to a 64-bit float's range (what every JSON client produces) and numeric's scale.</summary>
    static string? NumberProblem(ReadOnlySpan<byte> raw)
    {
        if (!double.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            return "is a number outside the range of a 64-bit float (±1.8e308)";
        var e = raw.IndexOfAny((byte)'e', (byte)'E');
        var mantissa = e < 0 ? raw : raw[..e];
        var point = mantissa.IndexOf((byte)'.');
        long scale = point < 0 ? 0 : mantissa.Length - point - 1;
        if (e >= 0)
        {
            if (!long.TryParse(raw[(e + 1)..], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var exponent)
                || Math.Abs(exponent) > 1_000_000)
                return "is a number whose exponent is outside PostgreSQL's numeric range";
            scale -= exponent;
        }
        return scale > MaxNumericScale ? $"is a number with more than {MaxNumericScale} digits after the decimal point, which cannot be stored" : null;
    }
}
