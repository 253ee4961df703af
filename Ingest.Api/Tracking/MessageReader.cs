namespace Ingest.Api.Tracking;

/// <summary>Reads the messages of a request: one message, a Segment batch (<see cref="BatchMessages"/>) or the older format (<see cref="LegacyAnalytics"/>).</summary>
public delegate MessagesRead MessageReader(System.Text.Json.JsonElement root, SegmentMessage.Envelope envelope);
