using System.Globalization;

namespace Ingest.Api.ReadSide;

/// <summary>
/// One page of a list paged by keyset, newest first on (time, id): the events, the quarantine, the transaction log.
/// A page reads one row more than it shows (<see cref="RowsToRead"/>): when that row comes, another page follows, and
/// the client is given the last row shown as a <see cref="KeysetCursor"/> bound to the list's <see cref="Scope"/>, which
/// <see cref="QueryParameters.Page(KeysetCursor, string)"/> reads back. Unlike an offset, a row stored meanwhile moves nothing.
/// </summary>
public sealed class Paging(KeysetCursor cursors, string scope, int limit, KeysetCursor.Position? after)
{
    /// <summary>
    /// What a cursor is bound to: the list's name and every value its query filters on, the source among them when the
    /// list has one (an instant as its UTC ticks, an absent filter as nothing). A cursor is refused for any other scope.
    /// </summary>
    public static string Scope(string list, params object?[] filters) =>
        string.Join('\u001f', filters.Select(Text).Prepend(list));

    static string? Text(object? filter) => filter switch
    {
        DateTimeOffset instant => instant.UtcTicks.ToString(CultureInfo.InvariantCulture),
        _ => Convert.ToString(filter, CultureInfo.InvariantCulture),
    };

    /// <summary>The most rows the page shows.</summary>
    public int Limit => limit;

    /// <summary>One row more than the page shows: whether it comes tells whether another page follows.</summary>
    public int RowsToRead => limit + 1;

    /// <summary>The time of the previous page's last row; null on the first page.</summary>
    public DateTimeOffset? AfterTime => after is null ? null : new DateTimeOffset(after.Time);

    /// <summary>The id of the previous page's last row as text (a list keyed by uuid casts it); null on the first page.</summary>
    public string? AfterId => after?.Id;

    /// <summary>The id of the previous page's last row, for a list keyed by bigint; null on the first page.</summary>
    public long? AfterLongId => after is null ? null : long.Parse(after.Id, CultureInfo.InvariantCulture);

    /// <summary>
    /// Ends a page read with <see cref="RowsToRead"/>: drops the row beyond it, if it came, and returns the cursor of the
    /// next page, which starts after the last row left; null when this page is the last.
    /// </summary>
    public string? NextCursor<TRow>(List<TRow> rows, Func<TRow, DateTime> time, Func<TRow, object> id)
    {
        if (rows.Count <= limit) return null;
        rows.RemoveRange(limit, rows.Count - limit);
        var last = rows[^1];
        return cursors.Encode(time(last), Convert.ToString(id(last), CultureInfo.InvariantCulture)!, scope);
    }
}
