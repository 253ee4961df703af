using Microsoft.Extensions.Logging;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>
/// How many requests answered 4xx the request log writes at Warning each second. Past it, a 4xx is logged at Debug
/// (left out at the default level) and counted, and once the second is over one Warning gives the count by status.
/// Anyone can send a browser's write key, or none: a flood of refused requests then costs a counter each instead of
/// an event in every sink, and still shows in the log.
/// </summary>
public sealed class ClientErrorLogBudget(int perSecond, ILogger log, TimeProvider time)
{
    static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    readonly Lock _gate = new();
    long _windowStart = long.MinValue;
    int _logged;
    SortedDictionary<int, int>? _over;

    /// <summary>True when this 4xx is logged at Warning; false when it is over the budget, and counted.</summary>
    public bool TryTake(int status)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (_windowStart == long.MinValue || time.GetElapsedTime(_windowStart, now) >= Window) (_windowStart, _logged) = (now, 0);
            if (_logged < perSecond)
            {
                _logged++;
                return true;
            }
            var first = _over is null;
            _over ??= [];
            _over[status] = _over.GetValueOrDefault(status) + 1;
            // Counted before the report is set going: under 1 ms before the second is over, the delay rounds to none
            // and the report runs here, at once, on this thread (the lock lets it in).
            if (first)
            {
                // Not in this request's context: the count belongs to no one request (its path, its trace).
                using (ExecutionContext.SuppressFlow()) _ = ReportAsync(Window - time.GetElapsedTime(_windowStart, now));
            }
            return false;
        }
    }

    async Task ReportAsync(TimeSpan delay)
    {
        await Task.Delay(delay, time);
        SortedDictionary<int, int> over;
        lock (_gate) (over, _over) = (_over!, null);
        log.LogWarning("{Count} more requests answered 4xx were logged at Debug, not Warning: the request log writes {PerSecond} a second at Warning. By status: {ByStatus}",
            over.Values.Sum(), perSecond, over.ToDictionary(p => p.Key.ToString(), p => p.Value));
    }
}
