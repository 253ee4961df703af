using Ingest.Database;
using Ingest.Database.Migrations;

namespace Ingest.Worker.Persistence;

/// <summary>Applies pending migrations at start, retrying while the database is not reachable yet.</summary>
sealed class MigrateOnStart(Migrator migrator, ILogger<MigrateOnStart> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await migrator.ApplyAsync(cancellationToken);
                return;
            }
            catch (Exception e) when (DatabaseAvailability.IsUnavailable(e) && attempt < 30)
            {
                log.LogWarning("Database not reachable for migrations (attempt {Attempt}): {Error}", attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
