namespace Ingest.Api.LiveTail;

/// <summary>
/// Completes a live-tail client's batches when it fell more than <see cref="ReadSide.QueryOptions.StreamClientBuffer"/> rows
/// behind: it is told so and disconnected, and reconnects with Last-Event-ID.
/// </summary>
public sealed class ClientTooSlowException() : Exception("The client fell too far behind the live tail.");
