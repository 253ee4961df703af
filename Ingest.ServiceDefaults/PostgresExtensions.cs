using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Ingest.ServiceDefaults;

public static class PostgresExtensions
{
    /// <summary>The NpgsqlDataSource both hosts use, from ConnectionStrings:Postgres; a host without it stops at start saying so.</summary>
    public static IHostApplicationBuilder AddPostgres(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set (environment: ConnectionStrings__Postgres).");
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        return builder;
    }
}
