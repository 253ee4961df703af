using Microsoft.Extensions.Options;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Paces writes to at most a number of events per second, lower during peak hours, so that a backlog waits in
/// RabbitMQ rather than loading the database. Each batch reserves its share of time: a batch of n events at a cap
/// of r events/s starts no earlier than the previous reservation's end and holds the next n/r seconds.
/// </summary>
public sealed class WriteRateLimiter(IOptions<WorkerOptions> options, TimeProvider time)
{
    readonly Lock _lock = new();
    readonly double? _cap = options.Value.MaxEventsPerSecond;
    readonly double? _peakCap = options.Value.PeakMaxEventsPerSecond;
    readonly PeakWindow[] _peakWindows = options.Value.PeakHours.Select(w => PeakWindow.TryParse(w, out var p) ? p : throw new FormatException(w)).ToArray();
    DateTimeOffset _nextFree = DateTimeOffset.MinValue;

    /// <summary>The cap in force at a local time: the peak cap inside a peak window (never above the general cap), else the general cap.</summary>
    public double? CapAt(DateTimeOffset localNow)
    {
        var timeOfDay = TimeOnly.FromDateTime(localNow.DateTime);
        if (_peakCap is { } peak && _peakWindows.Any(w => w.Contains(timeOfDay)))
            return _cap is { } cap ? Math.Min(cap, peak) : peak;
        return _cap;
    }

    /// <summary>Reserves the time to write <paramref name="events"/> events and returns how long to wait before writing them.</summary>
    public TimeSpan Reserve(int events)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (CapAt(time.GetLocalNow()) is not { } cap)
            {
                _nextFree = now;
                return TimeSpan.Zero;
            }
            var start = _nextFree > now ? _nextFree : now;
            _nextFree = start + TimeSpan.FromSeconds(events / cap);
            return start - now;
        }
    }

    public Task WaitAsync(int events, CancellationToken ct)
    {
        var delay = Reserve(events);
        return delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, time, ct);
    }
}
