using System.Text.Json;
using MassTransit;

namespace Ingest.Tests.Contracts;

/// <summary>
/// An <see cref="Ingest.Contracts.EventBatch"/> as a broken publisher might write it: the same message type, so the
/// worker takes it as one, in MassTransit's own envelope, but any JSON in its fields.
/// </summary>
[MessageUrn("Ingest.Contracts:EventBatch")]
public sealed record LooseEventBatch(JsonElement BatchId, JsonElement PublishedAt, JsonElement Events);
