using System.Diagnostics;
using System.Globalization;

namespace StressTests.Runner;

/// <summary>
/// Runs a scenario under its load model and returns its figures. Steps are called directly from the load loop,
/// so whatever a step does before its first await delays the schedule; in the open model that delay is counted
/// as latency, as it should be. While a run lasts, a progress line is written every second.
/// </summary>
public sealed class ScenarioRunner(TextWriter progress)
{
    /// <summary>After the load ends, calls still running get this long; then they are cancelled and count as failures.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A bound on any run, including a closed model given only an iteration count.</summary>
    public TimeSpan MaxRunTime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>When set, the processes' CPU time is sampled at the end of warm-up and when the load ends (<see cref="ScenarioResult.Cpu"/>).</summary>
    public Cost.ProcessCpu? Cpu { get; init; }

    public async Task<ScenarioResult> RunAsync(Scenario scenario, CancellationToken ct)
    {
        var stats = new ScenarioStats(scenario.WarmUp);
        var clock = Stopwatch.StartNew();
        using var stepCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stepCancel.CancelAfter(MaxRunTime);
        using var progressStop = new CancellationTokenSource();
        var progressTask = WriteProgressAsync(scenario, stats, clock, progressStop.Token);
        var windowStart = Cpu is null ? null : SampleAfterAsync(Cpu, scenario.WarmUp, stepCancel.Token);
        try
        {
            var load = scenario.Load switch
            {
                ClosedModel closed => RunClosedAsync(scenario, closed, stats, clock, stepCancel),
                OpenModel open => RunOpenAsync(scenario, open, stats, clock, stepCancel),
                _ => throw new ArgumentException($"Unknown load model {scenario.Load}"),
            };
            await load;
        }
        finally
        {
            await progressStop.CancelAsync();
            await progressTask;
        }
        var result = stats.ToResult(scenario.Name, scenario.Load);
        if (Cpu is not null && windowStart is not null) result.Cpu = new Cost.CpuWindow(await windowStart, Cpu.Sample());
        return result;
    }

    /// <summary>A CPU sample once <paramref name="warmUp"/> has passed (at once without a warm-up).</summary>
    static async Task<Cost.CpuSample> SampleAfterAsync(Cost.ProcessCpu cpu, TimeSpan warmUp, CancellationToken ct)
    {
        if (warmUp > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(warmUp, ct);
            }
            catch (OperationCanceledException)
            {
                // the run ended early: the window starts now
            }
        }
        return cpu.Sample();
    }

    async Task RunClosedAsync(Scenario scenario, ClosedModel model, ScenarioStats stats, Stopwatch clock, CancellationTokenSource stepCancel)
    {
        if (model.Duration is null && model.Iterations is null) throw new ArgumentException("A closed model needs a duration or an iteration count.");
        if (model.Duration is { } d) stepCancel.CancelAfter(d + DrainTimeout);
        var token = stepCancel.Token;
        long started = -1;

        async Task Client(int client)
        {
            while (!token.IsCancellationRequested)
            {
                if (model.Duration is { } duration && clock.Elapsed >= duration) return;
                var n = Interlocked.Increment(ref started);
                if (model.Iterations is { } max && n >= max) return;
                var start = clock.Elapsed;
                var result = await InvokeAsync(scenario, new ScenarioContext(scenario.Name, n, client, start), token);
                stats.Record(start, clock.Elapsed, result);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, model.Clients).Select(c => Task.Run(() => Client(c), CancellationToken.None)));
    }

    async Task RunOpenAsync(Scenario scenario, OpenModel model, ScenarioStats stats, Stopwatch clock, CancellationTokenSource stepCancel)
    {
        var token = stepCancel.Token;
        long outstanding = 0;

        async Task Call(long i, TimeSpan intended)
        {
            try
            {
                var result = await InvokeAsync(scenario, new ScenarioContext(scenario.Name, i, 0, intended), token);
                stats.Record(intended, clock.Elapsed, result);
            }
            finally
            {
                Interlocked.Decrement(ref outstanding);
            }
        }

        var total = model.TotalCalls;
        for (long i = 0; i < total && !token.IsCancellationRequested; i++)
        {
            var intended = model.IntendedStart(i);
            var wait = intended - clock.Elapsed;
            // Task.Delay sleeps at least a millisecond: calls that fall due meanwhile go out together, each still timed from its own intended start.
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break; // the run's time was up
                }
            }
            if (Interlocked.Read(ref outstanding) >= model.MaxOutstanding)
            {
                stats.Record(intended, clock.Elapsed, StepResult.Fail(0, $"overflow: {model.MaxOutstanding} calls outstanding"));
                continue;
            }
            Interlocked.Increment(ref outstanding);
            _ = Call(i, intended);
        }

        stepCancel.CancelAfter(DrainTimeout);
        while (Interlocked.Read(ref outstanding) > 0)
            await Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None);
    }

    static async Task<StepResult> InvokeAsync(Scenario scenario, ScenarioContext context, CancellationToken ct)
    {
        try
        {
            return await scenario.Step(context, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return StepResult.Fail(0, "cancelled: the run's time was up");
        }
        catch (Exception e)
        {
            return StepResult.Fail(0, $"{e.GetType().Name}: {e.Message}");
        }
    }

    async Task WriteProgressAsync(Scenario scenario, ScenarioStats stats, Stopwatch clock, CancellationToken ct)
    {
        var planned = scenario.Load switch
        {
            ClosedModel { Duration: { } d } => $"/{d.TotalSeconds:0}",
            OpenModel o => $"/{o.Duration.TotalSeconds:0}",
            _ => "",
        };
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                var (ok, fail, p99) = stats.Progress(clock.Elapsed);
                var phase = clock.Elapsed < scenario.WarmUp ? " (warm-up)" : "";
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"  [{scenario.Name}] {clock.Elapsed.TotalSeconds:0}{planned} s{phase}: {ok} ok, {fail} fail, last second p99 {p99:0.0} ms");
                await progress.WriteLineAsync(line.AsMemory(), ct);
            }
        }
        catch (OperationCanceledException)
        {
            // the run ended
        }
    }
}
