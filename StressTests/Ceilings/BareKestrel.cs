using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace StressTests.Ceilings;

/// <summary>The track call's JSON, bound by the bare endpoint the way a minimal API binds a record.</summary>
public sealed record TrackEvent(string UserId, string Event, JsonElement Properties, string MessageId, DateTimeOffset Timestamp);

/// <summary>
/// The HTTP ceiling: a minimal API in this process on 127.0.0.1 (a free port) that binds the same small JSON event
/// and answers 202, doing nothing else. Loaded by the same runner and client as the pipeline, so the ratio compares
/// like with like on this machine.
/// </summary>
public sealed class BareKestrel : IAsyncDisposable
{
    readonly WebApplication app;

    BareKestrel(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<BareKestrel> StartAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/v1/track", (TrackEvent _) => TypedResults.Accepted((string?)null));
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BareKestrel(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }
}
