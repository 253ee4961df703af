using System.Globalization;

namespace Ingest.Api;

/// <summary>
/// The one way an answer says when to come back (RFC 9110 §10.2.3): whole seconds, rounded up, so a client never
/// retries before the wait is over. Every 429 and 503 sets it through here.
/// </summary>
public static class RetryAfter
{
    public static void Set(HttpResponse response, TimeSpan wait) =>
        response.Headers.RetryAfter = Math.Max(0, Math.Ceiling(wait.TotalSeconds)).ToString("0", CultureInfo.InvariantCulture);

    public static void Set(HttpResponse response, int seconds) => Set(response, TimeSpan.FromSeconds(seconds));
}
