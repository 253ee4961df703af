using StressTests.Runner;

namespace StressTests.Unit;

public sealed class LoadModelTests
{
    static readonly ScenarioRunner Runner = new(TestContext.Progress) { DrainTimeout = TimeSpan.FromSeconds(10) };

    [Test]
    public async Task Open_model_counts_latency_from_the_intended_start_when_the_server_stalls()
    {
        // 100 calls a second for 2 s; call 50 (due at 0.5 s) blocks its caller for 500 ms, the way a stalled server
        // or a paused generator would. Calls 51-100 fall due during the stall and can only start after it (≥ 1.0 s),
        // so call k waits at least 1.0 - k/100 s. A runner that timed calls from their actual start would report
        // one slow call; this one must report each call's wait.
        var scenario = new Scenario("stall", (context, _) =>
        {
            if (context.Invocation == 50) Thread.Sleep(500);
            return Task.FromResult(StepResult.Ok());
        }, new OpenModel(Rate: 100, Duration: TimeSpan.FromSeconds(2)));

        var result = await Runner.RunAsync(scenario, CancellationToken.None);

        Assert.That(result.Ok, Is.EqualTo(200), result.Summary());
        Assert.That(result.Fail, Is.Zero, result.Summary());
        // Calls 50..69 waited about 300 ms or more and calls 50..84 about 150 ms or more: lower bounds that a loaded
        // machine can only raise. They are asserted with slack (15 and 30 calls; the sleep may measure a little short),
        // yet a runner that timed calls from their actual start would report a single slow call.
        Assert.That(result.Latency.CountAtOrAbove(300_000), Is.GreaterThanOrEqualTo(15), result.Summary());
        Assert.That(result.Latency.CountAtOrAbove(150_000), Is.GreaterThanOrEqualTo(30), result.Summary());
        Assert.That(result.P(100), Is.GreaterThanOrEqualTo(450), result.Summary());
    }

    [Test]
    public async Task Open_model_counts_calls_beyond_the_outstanding_bound_as_failures()
    {
        var scenario = new Scenario("overflow", async (_, ct) =>
        {
            await Task.Delay(300, ct);
            return StepResult.Ok();
        }, new OpenModel(Rate: 50, Duration: TimeSpan.FromSeconds(1), MaxOutstanding: 2));

        var result = await Runner.RunAsync(scenario, CancellationToken.None);

        Assert.That(result.Calls, Is.EqualTo(50), "every scheduled call is either run or counted as failed");
        Assert.That(result.Ok, Is.InRange(1, 12), result.Summary()); // 2 at a time, 300 ms each, over 1 s
        Assert.That(result.Errors.Keys, Has.Some.StartsWith("overflow"), result.Summary());
    }

    [Test]
    public void Open_model_ramps_up_linearly_then_holds_its_rate()
    {
        var model = new OpenModel(Rate: 1000, Duration: TimeSpan.FromSeconds(10), Ramp: TimeSpan.FromSeconds(2));

        Assert.That(model.TotalCalls, Is.EqualTo(9000)); // 1000 during the ramp (its average is half the rate), then 8 × 1000
        Assert.That(model.CallsBy(TimeSpan.FromSeconds(1)), Is.EqualTo(250));
        Assert.That(model.IntendedStart(250).TotalSeconds, Is.EqualTo(1).Within(1e-9));
        Assert.That(model.IntendedStart(2000).TotalSeconds, Is.EqualTo(3).Within(1e-9));
        Assert.That(new OpenModel(10, TimeSpan.FromSeconds(1)).IntendedStart(3).TotalSeconds, Is.EqualTo(0.3).Within(1e-9));
    }

    [Test]
    public async Task Closed_model_runs_exactly_the_iterations_asked_for()
    {
        long calls = 0;
        var scenario = new Scenario("iterations", async (context, ct) =>
        {
            Interlocked.Increment(ref calls);
            await Task.Yield();
            return context.Invocation % 10 == 0 ? StepResult.Fail(500, "every tenth") : StepResult.Ok(200, bytes: 10, items: 3);
        }, new ClosedModel(Clients: 8, Iterations: 1000));

        var result = await Runner.RunAsync(scenario, CancellationToken.None);

        Assert.That(Interlocked.Read(ref calls), Is.EqualTo(1000));
        Assert.That(result.Ok, Is.EqualTo(900));
        Assert.That(result.Fail, Is.EqualTo(100));
        Assert.That(result.StatusCodes, Is.EqualTo(new Dictionary<int, long> { [200] = 900, [500] = 100 }));
        Assert.That(result.Items, Is.EqualTo(2700));
        Assert.That(result.Bytes, Is.EqualTo(9000));
    }

    [Test]
    public async Task Closed_model_leaves_warm_up_out_of_the_figures_but_not_out_of_the_timeline()
    {
        var scenario = new Scenario("warm-up", async (_, ct) =>
        {
            await Task.Delay(5, ct);
            return StepResult.Ok();
        }, new ClosedModel(Clients: 2, Duration: TimeSpan.FromSeconds(1.5))) { WarmUp = TimeSpan.FromSeconds(1) };

        var result = await Runner.RunAsync(scenario, CancellationToken.None);

        Assert.That(result.Timeline[0].WarmUp, Is.True);
        Assert.That(result.Timeline.Sum(s => s.Ok), Is.GreaterThan(result.Ok), "the timeline also holds the warm-up's calls");
        Assert.That(result.Ok, Is.GreaterThan(0));
        Assert.That(result.MeasuredTime, Is.LessThan(TimeSpan.FromSeconds(1.5)));
    }

    [Test]
    public void A_breached_threshold_names_the_figure_and_its_bound()
    {
        var histogram = new LatencyHistogram();
        for (var i = 1; i <= 100; i++) histogram.Record(i * 1000); // 1..100 ms
        var result = new ScenarioResult
        {
            Name = "t", Load = "test", WarmUp = TimeSpan.Zero, MeasuredTime = TimeSpan.FromSeconds(10), Ok = 100, Fail = 0, Bytes = 0, Items = 100,
            StatusCodes = new Dictionary<int, long>(), Errors = new Dictionary<string, long>(), Latency = histogram, Timeline = [],
        };

        var breached = Threshold.Check(result, Threshold.Percentile(99, TimeSpan.FromMilliseconds(50)), Threshold.FailRate(0.01), Threshold.MinRate(20));

        Assert.That(breached, Has.Count.EqualTo(2));
        Assert.That(breached[0], Does.StartWith("p99 99").And.Contain("≤ 50ms").And.Contain("BREACHED"));
        Assert.That(breached[1], Does.StartWith("calls/s 10/s (bound ≥ 20/s)"));
        Assert.That(result.ThresholdOutcomes, Has.Count.EqualTo(3));
    }
}
