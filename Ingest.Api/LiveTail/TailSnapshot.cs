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
