using System.Text.Json;

namespace Ingest.Api.Tracking;

/// <summary>
/// PostgreSQL cannot store U+0000 in text or jsonb. A message carrying one would be refused by the database long
/// after the client was told it was accepted, so the API refuses it up front, naming where it is.
/// </summary>
public static class NulCharacters
{
    /// <summary>JSON can carry U+0000 only as this escape, so a body without it has none.</summary>
    public static bool MayBeIn(ReadOnlySpan<byte> json) => json.IndexOf("\\u0000"u8) >= 0;

    /// <returns>The JSON path of the first string or property name containing U+0000, or null.</returns>
    public static string? FindIn(JsonElement element, string path = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return !element.GetString()!.Contains('\0', StringComparison.Ordinal) ? null : path;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var child = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    if (property.Name.Contains('\0', StringComparison.Ordinal)) return child;
                    if (FindIn(property.Value, child) is { } found) return found;
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                    if (FindIn(item, $"{path}[{i++}]") is { } found) return found;
                return null;
            default:
                return null;
        }
    }
}
