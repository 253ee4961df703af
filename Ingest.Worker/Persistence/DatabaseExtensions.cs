using Ingest.Database.Migrations;
using Ingest.ServiceDefaults;
using Ingest.Worker.Partitions;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        // AspNetCore.HealthChecks.NpgSql: a "select 1" on the host's own data source.
        builder.Services.AddHealthChecks().AddNpgSql(services => services.GetRequiredService<NpgsqlDataSource>(), name: "postgres", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }
}
