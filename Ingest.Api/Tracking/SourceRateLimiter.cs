using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Ingest.Api.Tracking;

/// <summary>
/// A token bucket per source, counted in events (a batch of 100 takes 100 tokens). The source is known only once
/// the key is read, which may be in the body, so the endpoints ask this limiter rather than the rate-limiting middleware.
/// </summary>
public sealed class SourceRateLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(source =>
    {
        var perSecond = options.Value.Sources.TryGetValue(source, out var own) ? own : options.Value.EventsPerSecond;
        return perSecond <= 0
            ? RateLimitPartition.GetNoLimiter(source)
            : RateLimitPartition.GetTokenBucketLimiter(source, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(perSecond * options.Value.BurstSeconds, TrackingRequest.MaxBatchMessages),
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
    });

    /// <returns>Null when allowed; otherwise how long to wait before retrying.</returns>
    public TimeSpan? TryAcquire(string source, int events)
    {
        using var lease = _limiter.AttemptAcquire(source, Math.Min(events, TrackingRequest.MaxBatchMessages));
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : TimeSpan.FromSeconds(1);
    }

    public void Dispose() => _limiter.Dispose();
}
