using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Ingest.ServiceDefaults;

public static class PostgresExtensions
{
    /// <summary>
    /// The NpgsqlDataSource both hosts use (Npgsql.DependencyInjection, which also hands Npgsql the host's logger
    /// factory, so Npgsql's own logs go through Serilog), from ConnectionStrings:Postgres; a host without it stops at
    /// start saying so.
    /// </summary>
    public static IHostApplicationBuilder AddPostgres(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set (environment: ConnectionStrings__Postgres).");
        builder.Services.AddNpgsqlDataSource(connectionString, WithoutPersonalDataInLogs);
        return builder;
    }

    /// <summary>
    /// Npgsql never logs a statement's parameters: they are the events' user ids, traits and properties. Off by default;
    /// said here so that no one turns it on to debug a query and leaves it on.
    /// </summary>
    public static void WithoutPersonalDataInLogs(NpgsqlDataSourceBuilder builder) => builder.EnableParameterLogging(false);
}
