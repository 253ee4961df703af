using System.Net;
using Ingest.Api.Keys;
using Ingest.Api.Privacy;
using Ingest.Api.Publishing;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ingest.Api.Tracking;

public static class TrackingExtensions
{
    /// <summary>Rate limits, the suppressed subjects and broker publishing. Needs <see cref="KeyAuthentication.AddKeyAuthentication"/>'s keys.</summary>
    public static IHostApplicationBuilder AddTracking(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SourceRateLimiter>();
        builder.Services.AddSingleton<SuppressionList>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SuppressionList>());
        builder.Services.AddSingleton<Ingestion>();
        builder.AddTrustedProxies();
        builder.AddEventPublishing();
        return builder;
    }

    /// <summary>
    /// X-Forwarded-For from the configured proxies only. ASP.NET Core's defaults trust loopback, and with both lists
    /// empty its middleware trusts every peer, so the lists are replaced by ours and the middleware only runs when
    /// one is set (<see cref="UseTrustedProxies"/>).
    /// </summary>
    static void AddTrustedProxies(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrustedProxyOptions>().BindConfiguration(TrustedProxyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxyOptions>>((forwarded, trusted) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            forwarded.ForwardLimit = trusted.Value.ForwardLimit;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in trusted.Value.KnownProxies) forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in trusted.Value.KnownNetworks) forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        });
    }

    /// <summary>First in the pipeline, so everything after sees the client's address; nothing when no proxy is trusted.</summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<IOptions<TrustedProxyOptions>>().Value.Any ? app.UseForwardedHeaders() : app;

    /// <summary>
    /// CORS preflights carry no key, so they are answered for any origin; the source's allowed origins are enforced on
    /// the request itself once its key is known (<see cref="Ingestion"/>). Before authentication in the pipeline, so a
    /// browser can read every refusal (a refused key's 401 too).
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
