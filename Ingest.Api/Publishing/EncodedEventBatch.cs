using Ingest.Contracts;
using MassTransit;

namespace Ingest.Api.Publishing;

/// <summary>
/// The broker message as the API sends it: an <see cref="EventBatch"/> whose events are already JSON. It carries
/// EventBatch's message type, so the worker consumes it as one.
/// </summary>
[MessageUrn("Ingest.Contracts:EventBatch")]
public sealed record EncodedEventBatch(Guid BatchId, DateTimeOffset PublishedAt, EncodedEventList Events);
