using System.Text.Json;
using Ingest.Contracts;
using Ingest.Database.Events;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Text that cannot even be sent to PostgreSQL, found in memory before any statement: a NUL character, which no text
/// column holds (PostgreSQL refuses the whole COPY or statement, SQLSTATE 22021, so no statement could isolate it), and a
/// lone UTF-16 surrogate, which is not Unicode and fails in the client before anything is sent. Everything else is left
/// for PostgreSQL to judge (<c>insert_events_one_by_one</c>): the API refuses more than PostgreSQL does (numbers beyond
/// a double, event names over 512 characters) and the worker must not quarantine what older APIs accepted and
/// PostgreSQL stores. The JSON fields are sent as their raw text, where a NUL or a surrogate is an escape: PostgreSQL judges those too.
/// </summary>
public static class UnsendableText
{
    /// <summary>The text columns the worker writes, each with its field's name in the message (camelCase, as the API reads it).</summary>
    static readonly (string Field, Func<AnalyticsEvent, string?> Value)[] TextFields =
        EventsTable.Written.Where(c => c.TextOf is not null).Select(c => (JsonNamingPolicy.CamelCase.ConvertName(c.Property), c.TextOf!)).ToArray();

    /// <returns>Why the event cannot be sent, naming the field (the first, in the table's order); or null.</returns>
    public static string? Find(AnalyticsEvent e)
    {
        foreach (var (field, value) in TextFields)
            if (Find(field, value(e)) is { } reason) return reason;
        return null;
    }

    static string? Find(string field, string? value)
    {
        if (value is null) return null;
        if (value.Contains('\0'))
            return $"{field} contains a NUL character (U+0000), which PostgreSQL does not store in text (SQLSTATE 22021); found by the worker before writing";
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(value[i]))
                return $"{field} contains a lone UTF-16 surrogate, which is not Unicode text and cannot be sent to PostgreSQL; found by the worker before writing";
        }
        return null;
    }

    /// <summary>Text columns cannot hold NUL; the raw JSON keeps the exact value, escaped.</summary>
    public static string Printable(string value) => value.Replace("\0", "\\u0000", StringComparison.Ordinal);
}
