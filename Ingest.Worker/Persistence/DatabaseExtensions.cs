using Ingest.Database;
using Ingest.Database.Migrations;
using Ingest.ServiceDefaults;
using Ingest.Worker.Partitions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Ingest.Worker.Persistence;

public static class DatabaseExtensions
{
    /// <summary>
    /// The NpgsqlDataSource (ConnectionStrings:Postgres), the migrations applied and the partitions of events made
    /// ready before the consumer starts, and the database's readiness check.
    /// </summary>
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        builder.AddPostgres();
        builder.Services.AddSingleton<Migrator>();
        builder.Services.AddHostedService<MigrateOnStart>();
        builder.Services.AddOptions<PartitionOptions>().BindConfiguration(PartitionOptions.Section)
            .Configure<IConfiguration>((partitions, configuration) => partitions.Retention = configuration.GetValue<TimeSpan?>(PartitionOptions.RetentionKey))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<PartitionMaintenance>(); // after the migrations, before the consumer
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("postgres", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }
}

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

sealed class DatabaseHealthCheck(NpgsqlDataSource db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(
        HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var cmd = db.CreateCommand("select 1");
            await cmd.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (NpgsqlException e)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
