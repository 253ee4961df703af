namespace StressTests.Runner;

/// <summary>A named async step that the runner calls again and again under a load model.</summary>
public sealed record Scenario(string Name, Func<ScenarioContext, CancellationToken, Task<StepResult>> Step, LoadModel Load)
{
    /// <summary>Requests whose intended start falls in this first stretch run but are left out of the figures.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.Zero;
}

/// <param name="Invocation">0, 1, 2… across the whole scenario: a unique number for message ids.</param>
/// <param name="Client">The closed model's client number (0..N-1); 0 in the open model.</param>
/// <param name="IntendedStart">When the runner meant this call to start, from the start of the run.</param>
public sealed record ScenarioContext(string ScenarioName, long Invocation, int Client, TimeSpan IntendedStart);

/// <summary>One call's outcome. <paramref name="Items"/> counts what the call carried (events, rows), for items/s.</summary>
public readonly record struct StepResult(bool IsOk, int StatusCode, long Bytes, long Items, string? Error = null)
{
    public static StepResult Ok(int statusCode = 0, long bytes = 0, long items = 1) => new(true, statusCode, bytes, items);
    public static StepResult Fail(int statusCode, string error, long bytes = 0) => new(false, statusCode, bytes, 0, error);
}

/// <summary>How the runner drives a scenario.</summary>
public abstract record LoadModel;

/// <summary>
/// N clients, each calling the step again as soon as its previous call returns, until <paramref name="Duration"/>
/// has passed or <paramref name="Iterations"/> calls have started in all (whichever comes first; give at least one).
/// Latency is each call's own time: a closed model slows down with the server, so it measures capacity, not waiting.
/// </summary>
public sealed record ClosedModel(int Clients, TimeSpan? Duration = null, long? Iterations = null) : LoadModel
{
    public override string ToString() =>
        $"closed, {Clients} client{(Clients == 1 ? "" : "s")}" + (Duration is { } d ? $", {d.TotalSeconds:0.#} s" : "") + (Iterations is { } n ? $", {n} calls" : "");
}

/// <summary>
/// Calls injected at <paramref name="Rate"/> a second for <paramref name="Duration"/> (ramp included), whether or not
/// earlier calls have returned. The rate grows linearly from 0 over <paramref name="Ramp"/>. Each call has an intended
/// start time and its latency is measured from it, so a stalled server or a late generator shows up as latency
/// (no coordinated omission). At most <paramref name="MaxOutstanding"/> calls run at once: a call due while that
/// many are running is not started and counts as a failure ("overflow"), rather than queuing without bound.
/// </summary>
public sealed record OpenModel(double Rate, TimeSpan Duration, TimeSpan Ramp = default, int MaxOutstanding = 1000) : LoadModel
{
    /// <summary>The number of calls the whole run schedules.</summary>
    public long TotalCalls => CallsBy(Duration);

    /// <summary>Calls due by <paramref name="t"/>: the integral of the rate, R·t²/(2·ramp) during the ramp, then R per second.</summary>
    public long CallsBy(TimeSpan t)
    {
        var s = t.TotalSeconds;
        var ramp = Ramp.TotalSeconds;
        var count = s <= ramp ? Rate * s * s / (2 * ramp) : Rate * ramp / 2 + Rate * (s - ramp);
        return (long)Math.Floor(count + 1e-9);
    }

    /// <summary>The intended start of call <paramref name="i"/> (0-based): the inverse of <see cref="CallsBy"/>.</summary>
    public TimeSpan IntendedStart(long i)
    {
        var ramp = Ramp.TotalSeconds;
        var dueInRamp = Rate * ramp / 2;
        var s = i < dueInRamp ? Math.Sqrt(2 * i * ramp / Rate) : ramp + (i - dueInRamp) / Rate;
        return TimeSpan.FromSeconds(s);
    }

    public override string ToString() =>
        $"open, {Rate:0.#}/s for {Duration.TotalSeconds:0.#} s" + (Ramp > TimeSpan.Zero ? $" (ramp {Ramp.TotalSeconds:0.#} s)" : "") + $", ≤{MaxOutstanding} outstanding";
}
