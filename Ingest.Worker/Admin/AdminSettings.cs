using Ingest.Broker;

namespace Ingest.Worker.Admin;

/// <summary>
/// What the admin commands read from configuration, built once a run and handed to every command: appsettings.json
/// beside the worker, then environment variables, under the hosts' own keys (<c>ConnectionStrings:Postgres</c>,
/// <c>Ingest:Broker:*</c>), so a command reaches the database and the broker the worker itself would.
/// </summary>
public sealed class AdminSettings(IConfiguration configuration)
{
    public static AdminSettings Read() => new(new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .Build());

    /// <summary>Null when not set: only the commands that need the database ask for it (dead-letters does not).</summary>
    public string? PostgresConnectionString => configuration.GetConnectionString("Postgres");

    public BrokerOptions Broker => configuration.GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
}
