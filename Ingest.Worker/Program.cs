using Ingest.ServiceDefaults;
using Ingest.ServiceDefaults.Logging;
using Ingest.Worker.Admin;
using Ingest.Worker.Persistence;

if (AdminCommands.Recognizes(args))
    return await AdminCommands.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddIngestLogging("ingest-worker");
builder.AddDatabase();
builder.AddEventConsumer();

var app = builder.Build();
app.MapHealthEndpoints("ingest-worker");
await app.RunAsync();
return 0;

public partial class Program;
