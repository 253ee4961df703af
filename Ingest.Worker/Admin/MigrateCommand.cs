using System.CommandLine;
using Ingest.Database.Migrations;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Worker.Admin;

/// <summary><c>Ingest.Worker migrate</c>: applies the embedded migrations the database has not seen yet.</summary>
static class MigrateCommand
{
    public static Command Create(AdminSettings settings)
    {
        var migrate = new Command("migrate", "Apply the migrations the database has not seen yet.");
        migrate.SetDatabaseAction(settings, async (db, _, ct) =>
        {
            var applied = await new Migrator(db, NullLogger<Migrator>.Instance).ApplyAsync(ct);
            Console.WriteLine($"applied {applied} migration(s); schema at version {Migrator.Embedded[^1].Version}");
            return 0;
        });
        return migrate;
    }
}
