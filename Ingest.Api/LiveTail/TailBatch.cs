namespace Ingest.Api.LiveTail;

/// <summary>Rows that <see cref="Upto"/> sees and <see cref="Before"/> does not, in tail order.</summary>
public sealed record TailBatch(TailSnapshot Before, TailSnapshot Upto, IReadOnlyList<TailedRow> Rows);
