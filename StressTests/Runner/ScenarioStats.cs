namespace StressTests.Runner;

/// <summary>Collects call outcomes from many tasks at once (one lock: simple, and far cheaper than an HTTP call).</summary>
sealed class ScenarioStats(TimeSpan warmUp)
{
    const int MaxDistinctErrors = 20;

    readonly Lock gate = new();
    readonly LatencyHistogram latency = new();
    readonly SortedDictionary<int, long> statusCodes = [];
    readonly Dictionary<string, long> errors = [];
    readonly List<SecondStats> seconds = [];
    long ok, fail, bytes, items;
    TimeSpan lastCompletion;

    /// <param name="start">The intended start of the call (the open model) or its actual start (the closed model).</param>
    public void Record(TimeSpan start, TimeSpan end, StepResult result)
    {
        var micros = Math.Max(0, (long)((end - start).TotalMicroseconds));
        lock (gate)
        {
            var second = Second((int)end.TotalSeconds);
            if (result.IsOk)
            {
                second.Ok++;
                second.Items += result.Items;
                second.Latency.Record(micros);
            }
            else second.Fail++;

            if (start < warmUp) return;
            if (end > lastCompletion) lastCompletion = end;
            bytes += result.Bytes;
            if (result.StatusCode != 0) statusCodes[result.StatusCode] = statusCodes.GetValueOrDefault(result.StatusCode) + 1;
            if (result.IsOk)
            {
                ok++;
                items += result.Items;
                latency.Record(micros);
            }
            else
            {
                fail++;
                var error = result.Error ?? $"status {result.StatusCode}";
                if (errors.ContainsKey(error) || errors.Count < MaxDistinctErrors) errors[error] = errors.GetValueOrDefault(error) + 1;
            }
        }
    }

    /// <summary>The last complete second, for the progress line.</summary>
    public (long Ok, long Fail, double P99Ms) Progress(TimeSpan now)
    {
        lock (gate)
        {
            var s = (int)now.TotalSeconds - 1;
            if (s < 0 || s >= seconds.Count) return (ok, fail, 0);
            return (ok, fail, seconds[s].Latency.Percentile(99) / 1000.0);
        }
    }

    public ScenarioResult ToResult(string name, LoadModel load)
    {
        lock (gate)
        {
            return new ScenarioResult
            {
                Name = name,
                Load = load.ToString(),
                WarmUp = warmUp,
                MeasuredTime = lastCompletion > warmUp ? lastCompletion - warmUp : TimeSpan.Zero,
                Ok = ok,
                Fail = fail,
                Bytes = bytes,
                Items = items,
                StatusCodes = new SortedDictionary<int, long>(statusCodes),
                Errors = new Dictionary<string, long>(errors),
                Latency = latency,
                Timeline = seconds.Select((s, i) => new TimelineSecond(i, i < warmUp.TotalSeconds, s.Ok, s.Fail, s.Items,
                    s.Latency.Percentile(50) / 1000.0, s.Latency.Percentile(99) / 1000.0, s.Latency.Max / 1000.0)).ToList(),
            };
        }
    }

    SecondStats Second(int s)
    {
        while (seconds.Count <= s) seconds.Add(new SecondStats());
        return seconds[s];
    }

    sealed class SecondStats
    {
        public long Ok, Fail, Items;
        public readonly LatencyHistogram Latency = new();
    }
}
