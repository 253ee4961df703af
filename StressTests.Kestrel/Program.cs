using System.Text.Json;

// The HTTP ceiling: a minimal API that binds the same small JSON track event as Ingest.Api's /v1/track and answers 202,
// doing nothing else; no logging. StressTests starts it (ASPNETCORE_URLS) and loads it with the same client as the pipeline.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapPost("/v1/track", (TrackEvent _) => TypedResults.Accepted((string?)null));
app.MapGet("/health/ready", () => TypedResults.Ok());
app.Run();

/// <summary>The track call's JSON, bound the way a minimal API binds a record.</summary>
sealed record TrackEvent(string UserId, string Event, JsonElement Properties, string MessageId, DateTimeOffset Timestamp);
