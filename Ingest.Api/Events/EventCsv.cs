using System.Globalization;
using System.Text;
using Ingest.Database.Events;

namespace Ingest.Api.Events;

/// <summary>
/// The events list as RFC 4180 CSV, for analysts: one column per column of the read side's row
/// (<see cref="EventsTable.Read"/>), headed by the column's name.
/// </summary>
public static class EventCsv
{
    /// <summary>The header line: the columns' names, in the table's order.</summary>
    public static string Header { get; } = string.Join(',', EventsTable.Read.Select(c => c.Name)) + "\r\n";

    /// <summary>
    /// Streams the rows as CSV, flushed every 1,000 rows. <paramref name="rows"/> was moved to its first row (or found
    /// empty, <paramref name="hasRow"/> false) before the response started, so a database error could still become a 503.
    /// </summary>
    public static async Task WriteAsync(HttpResponse response, IAsyncEnumerator<EventRow> rows, bool hasRow, CancellationToken ct)
    {
        response.ContentType = "text/csv; charset=utf-8";
        response.Headers.ContentDisposition = "attachment; filename=\"events.csv\"";
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(false), 64 * 1024);
        await writer.WriteAsync(Header);
        var count = 0;
        while (hasRow)
        {
            var line = new StringBuilder(256);
            AppendRow(line, rows.Current);
            await writer.WriteAsync(line.Append("\r\n"), ct);
            if (++count % 1000 == 0) await writer.FlushAsync(ct);
            hasRow = await rows.MoveNextAsync();
        }
        await writer.FlushAsync(ct);
    }

    /// <summary>One row's fields, in the order of <see cref="Header"/> (checked by When_the_events_row_is_defined).</summary>
    public static void AppendRow(StringBuilder line, EventRow r) =>
        Append(line, r.Id.ToString(CultureInfo.InvariantCulture), r.MessageId, r.Type, r.Event, r.Name, r.UserId, r.AnonymousId, r.GroupId, r.PreviousId,
            Iso(r.Timestamp), Iso(r.OriginalTimestamp), Iso(r.SentAt), Iso(r.ReceivedAt), Iso(r.StoredAt), r.TimestampClamped ? "true" : "false",
            r.Properties, r.Traits, r.Context, r.Integrations);

    static string? Iso(DateTime? time) => time?.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// RFC 4180: a field holding a comma, quote or line break is quoted, its quotes doubled. A field a spreadsheet would
    /// run as a formula (starting with = + - @ tab or carriage return) first gets a leading ', as OWASP's CSV injection
    /// page advises: stored events come from anyone who holds a write key, the export is opened by analysts.
    /// </summary>
    public static void Append(StringBuilder line, params string?[] fields)
    {
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0) line.Append(',');
            var field = fields[i] ?? "";
            if (field.Length > 0 && "=+-@\t\r".Contains(field[0], StringComparison.Ordinal)) field = "'" + field;
            if (field.AsSpan().IndexOfAny(",\"\r\n") < 0) line.Append(field);
            else line.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
    }
}
