using Microsoft.Extensions.Hosting;

namespace Ingest.Tests.Integration.Api;

static class LifetimeExtensions
{
    public static Task StopApplicationAsync(this IHostApplicationLifetime lifetime)
    {
        var stopped = new TaskCompletionSource();
        lifetime.ApplicationStopped.Register(() => stopped.TrySetResult());
        lifetime.StopApplication();
        return stopped.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
