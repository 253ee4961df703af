
namespace Ingest.Contracts;

/// <summary>
/// One broker message: the events of every request the API gathered in one group-commit window.
/// The worker stores all of them or none before it acknowledges the message.
/// </summary>
public sealed record EventBatch(Guid BatchId, DateTimeOffset PublishedAt, IReadOnlyList<AnalyticsEvent> Events);
