using Ingest.ServiceDefaults;
using Ingest.Api.Keys;
using Ingest.Api.Publishing;

namespace Ingest.Api.Tracking;

public static class TrackingExtensions
{
    /// <summary>Keys (loaded from PostgreSQL in the background, never on the request path), rate limits, broker publishing.</summary>
    public static IHostApplicationBuilder AddTracking(this IHostApplicationBuilder builder)
    {
        builder.AddPostgres();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<KeyOptions>().BindConfiguration(KeyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<KeyStore>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KeyStore>());
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SourceRateLimiter>();
        builder.Services.AddSingleton<Ingestion>();
        builder.AddEventPublishing();
        return builder;
    }

    /// <summary>
    /// CORS preflights carry no key, so they are answered for any origin; the source's allowed origins are enforced on
    /// the request itself once its key is known (<see cref="Ingestion"/>).
    /// </summary>
    public static IApplicationBuilder UsePreflight(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var request = http.Request;
        if (HttpMethods.IsOptions(request.Method) && request.Headers.Origin.Count > 0 && request.Headers.AccessControlRequestMethod.Count > 0)
        {
            var headers = http.Response.Headers;
            headers.AccessControlAllowOrigin = request.Headers.Origin;
            headers.AccessControlAllowMethods = "POST, GET, OPTIONS";
            headers.AccessControlAllowHeaders = request.Headers.AccessControlRequestHeaders.Count > 0 ? request.Headers.AccessControlRequestHeaders : "Authorization, Content-Type";
            headers.AccessControlMaxAge = "86400";
            headers.Vary = "Origin";
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        if (request.Headers.Origin.Count > 0)
            http.Response.OnStarting(() =>
            {
                // Errors before the key is known still name their problem to a browser; a refused origin gets no header.
                if (http.Response.StatusCode != StatusCodes.Status403Forbidden && !http.Response.Headers.ContainsKey("Access-Control-Allow-Origin"))
                {
                    http.Response.Headers.AccessControlAllowOrigin = request.Headers.Origin;
                    http.Response.Headers.Vary = "Origin";
                }
                return Task.CompletedTask;
            });
        await next(http);
    });
}
