using System.Globalization;

namespace Ingest.Api.LiveTail;

/// <summary>
/// A PostgreSQL snapshot as <c>pg_current_snapshot()::text</c> writes it, <c>xmin:xmax:xip,…</c>: which transactions had
/// finished when it was taken. The live tail sends a row when the first of its snapshots that sees the row's transaction
/// is taken.
/// </summary>
public sealed record TailSnapshot(long Xmin, long Xmax, long[] InProgress)
{
    /// <summary>Whether the transaction had finished (committed, for any row that can be read) when the snapshot was taken.</summary>
    public bool Sees(long xact) => xact < Xmin || (xact < Xmax && Array.IndexOf(InProgress, xact) < 0);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Xmin}:{Xmax}:{string.Join(',', InProgress)}");

    public static TailSnapshot? Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 3 || !Number(parts[0], out var xmin) || !Number(parts[1], out var xmax) || xmin > xmax) return null;
        var inProgress = parts[2].Length == 0 ? [] : parts[2].Split(',').Select(p => Number(p, out var x) ? x : -1).ToArray();
        return inProgress.Any(x => x < xmin || x >= xmax) ? null : new(xmin, xmax, inProgress);
    }

    static bool Number(string text, out long value) => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}

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
