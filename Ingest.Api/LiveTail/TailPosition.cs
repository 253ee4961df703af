using System.Globalization;

namespace Ingest.Api.LiveTail;

/// <summary>
/// Where a live-tail client is, its SSE id: it has every row of its stream that <see cref="Before"/> sees, and those that
/// <see cref="Upto"/> sees up to (<see cref="Xact"/>, <see cref="Id"/>) in the order (xact_id, id). Written
/// <c>before/upto/xact.id</c>; a client reconnecting with it as Last-Event-ID gets exactly the rows it does not have.
/// </summary>
public sealed record TailPosition(TailSnapshot Before, TailSnapshot Upto, long Xact, long Id)
{
    public bool Has(long xact, long id) => Before.Sees(xact) || (Upto.Sees(xact) && (xact < Xact || (xact == Xact && id <= Id)));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Before}/{Upto}/{Xact}.{Id}");

    public static TailPosition? Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 3 || TailSnapshot.Parse(parts[0]) is not { } before || TailSnapshot.Parse(parts[1]) is not { } upto) return null;
        var row = parts[2].Split('.');
        if (row.Length != 2
            || !long.TryParse(row[0], NumberStyles.None, CultureInfo.InvariantCulture, out var xact)
            || !long.TryParse(row[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return null;
        return new(before, upto, xact, id);
    }
}
