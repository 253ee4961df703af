using System.Text;
using Ingest.Api.Events;
using Ingest.Api.Keys;
using Ingest.Api.LiveTail;
using Ingest.Api.Operations;
using Ingest.Api.Privacy;
using Ingest.ServiceDefaults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Api.ReadSide;

/// <summary>
/// The read side: every endpoint that reads what the pipeline stored (events, stats, the live tail, operations, the
/// key's source, the privacy summary), set up and mapped in one place, with what they share.
/// </summary>
public static class ReadSideExtensions
{
    /// <summary>
    /// The read side's options, its data source (<see cref="ReadDatabase"/>) and the live tail's LISTEN connection.
    /// Needs the NpgsqlDataSource (AddPostgres).
    /// </summary>
    public static IHostApplicationBuilder AddReadSide(this IHostApplicationBuilder builder)
    {
        if (builder.Configuration.GetConnectionString(ReadDatabase.ConnectionStringName) is { Length: > 0 } replica)
            builder.Services.AddNpgsqlDataSource(replica, PostgresExtensions.WithoutPersonalDataInLogs, serviceKey: ReadDatabase.Key);
        else
            builder.Services.AddKeyedSingleton(ReadDatabase.Key, (sp, _) => sp.GetRequiredService<NpgsqlDataSource>());
        builder.Services.AddOptions<QueryOptions>().BindConfiguration(QueryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => new KeysetCursor(Encoding.UTF8.GetBytes(sp.GetRequiredService<IOptions<QueryOptions>>().Value.CursorKey)));
        builder.Services.AddSingleton<LiveTailReader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LiveTailReader>());
        builder.Services.AddSingleton<PipelineHealth>();
        return builder;
    }

    /// <summary>Every read endpoint under /v1, behind a read key, answering 503 while PostgreSQL is down.</summary>
    public static IEndpointRouteBuilder MapReadSide(this IEndpointRouteBuilder app)
    {
        app.MapEvents();
        app.MapStats();
        app.MapTransactions();
        app.MapQuarantine();
        app.MapDeadLetters();
        app.MapSource();
        app.MapPipeline();
        app.MapPrivacySummary();
        return app;
    }

    /// <summary>
    /// A /v1 group behind the read policy (a write key is refused with 403) and <see cref="DatabaseUnavailableFilter"/>,
    /// with the answers every read endpoint can give.
    /// </summary>
    internal static RouteGroupBuilder MapReadGroup(this IEndpointRouteBuilder app, string tag) =>
        (RouteGroupBuilder)app.MapGroup("/v1").WithTags(tag)
            .RequireAuthorization(KeyAuthentication.Read)
            .AddEndpointFilter<DatabaseUnavailableFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}
