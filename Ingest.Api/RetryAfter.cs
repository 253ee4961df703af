using System.Globalization;

namespace Ingest.Api;

/// <summary>
/// The Retry-After of every 429 and 503 this API answers, read side and write side: whole seconds (RFC 9110
/// delay-seconds), rounded up, so a client that waits as told does not come back before it is worth it.
/// </summary>
public static class RetryAfter
{
    public static void Set(HttpResponse response, TimeSpan wait) =>
        response.Headers.RetryAfter = Math.Max(0, Math.Ceiling(wait.TotalSeconds)).ToString("0", CultureInfo.InvariantCulture);

    /// <summary>A delay from the configuration (<see cref="ReadSide.QueryOptions.RetryAfterSeconds"/>, PublishOptions.RetryAfterSeconds).</summary>
    public static void Set(HttpResponse response, int seconds) => Set(response, TimeSpan.FromSeconds(seconds));
}
