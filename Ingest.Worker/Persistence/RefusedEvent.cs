using Ingest.Contracts;

namespace Ingest.Worker.Persistence;

/// <summary>An event PostgreSQL refused (or that could not be sent), and why: it goes to quarantined_events.</summary>
public sealed record RefusedEvent(AnalyticsEvent Event, string Reason);
