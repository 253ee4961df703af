using Ingest.Api;
using Ingest.Api.Keys;
using Ingest.Api.Privacy;
using Ingest.Api.ReadSide;
using Ingest.Api.Tracking;
using Ingest.ServiceDefaults;
using Ingest.ServiceDefaults.Logging;

var builder = IngestHost.CreateBuilder(args);
builder.AddIngestLogging("ingest-api");
builder.AddProblemResponses();
builder.AddPostgres();
builder.AddKeyAuthentication();
builder.AddTracking();
builder.AddReadSide();
builder.Services.AddOpenApi();

var app = builder.Build();
app.UseTrustedProxies();
app.UseIngestRequestLogging();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UsePreflight();
app.UseDashboard();
app.UseAuthentication();
app.UseAuthorization();
app.MapTracking();
app.MapReadSide();
app.MapPrivacy();
app.MapHealthEndpoints("ingest-api");
app.MapOpenApi();
await app.RunAsync();

public partial class Program;
