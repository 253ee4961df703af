using Ingest.Contracts;

namespace Ingest.Api.Tracking;

/// <summary>The events accepted, the errors by message prefix ("" or "batch[3]"), or a refusal of the whole request.</summary>
public sealed record MessagesRead(List<AnalyticsEvent> Events, Dictionary<string, List<FieldError>> Errors, Refusal? Refusal = null);
