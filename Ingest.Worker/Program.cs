using Ingest.ServiceDefaults;
using Ingest.ServiceDefaults.Logging;
using Ingest.Worker.Admin;
using Ingest.Worker.Consuming;
using Ingest.Worker.Persistence;
using Ingest.Worker.Privacy;

namespace Ingest.Worker;

// Not top-level statements: those declare a global Program, which the API's already is, and tests see both hosts.
static class Program
{
    static async Task<int> Main(string[] args)
    {
        if (AdminCommands.Recognizes(args))
            return await AdminCommands.RunAsync(args);

        var builder = IngestHost.CreateBuilder(args);
        builder.AddIngestLogging("ingest-worker");
        builder.AddDatabase();
        builder.AddEventConsumer();
        builder.AddPrivacy();

        var app = builder.Build();
        app.MapHealthEndpoints("ingest-worker");
        await app.RunAsync();
        return 0;
    }
}
