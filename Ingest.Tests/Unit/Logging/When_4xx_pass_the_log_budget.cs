using Ingest.ServiceDefaults.Logging;
using Microsoft.Extensions.Logging;

namespace Ingest.Tests.Unit.Logging;

public sealed class When_4xx_pass_the_log_budget
{
    [Test]
    public void Each_one_over_the_budget_is_counted_once_even_when_its_report_is_due_at_once()
    {
        // TimeProvider.System's Task.Delay completes at once for a delay under 1 ms: a 4xx over the budget in the last
        // millisecond of a second has its report due as it is counted. It once threw there, and Kestrel reset the
        // request's connection with no answer (seen by the fuzz test).
        var clock = new DueAtOnceClock();
        var log = new ListLogger();
        var budget = new ClientErrorLogBudget(perSecond: 2, log, clock);

        var taken = new List<bool> { budget.TryTake(400), budget.TryTake(400) };
        clock.Timestamp = clock.TimestampFrequency - 1; // one tick before the second is over
        taken.Add(budget.TryTake(400));
        taken.Add(budget.TryTake(429));

        Assert.That(taken, Is.EqualTo(new[] { true, true, false, false }));
        Assert.That(log.Warnings.Sum(w => (int)w["Count"]!), Is.EqualTo(2), "both 4xx over the budget are counted in a warning");
        Assert.That(log.Warnings.SelectMany(w => ((IDictionary<string, int>)w["ByStatus"]!).Keys).Order(), Is.EqualTo(new[] { "400", "429" }));
    }

    /// <summary>Timestamps the test sets; a timer fires as it is made, as a delay under 1 ms does on TimeProvider.System.</summary>
    sealed class DueAtOnceClock : TimeProvider
    {
        public long Timestamp { get; set; }

        public override long GetTimestamp() => Timestamp;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            callback(state);
            return new Fired();
        }

        sealed class Fired : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>The Warning events written, each as its message template's properties.</summary>
    sealed class ListLogger : ILogger
    {
        public List<Dictionary<string, object?>> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning && state is IEnumerable<KeyValuePair<string, object?>> properties)
                Warnings.Add(properties.ToDictionary(p => p.Key, p => p.Value));
        }
    }
}
