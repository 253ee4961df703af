using Ingest.ServiceDefaults;
using Ingest.ServiceDefaults.Logging;

var builder = WebApplication.CreateBuilder(args);
builder.AddIngestLogging("ingest-api");

var app = builder.Build();
app.MapHealthEndpoints("ingest-api");
await app.RunAsync();

public partial class Program;
