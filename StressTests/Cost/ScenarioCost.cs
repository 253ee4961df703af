namespace StressTests.Cost;

/// <summary>How the worker batched a window's events, from its committed rows in ingest_transactions.</summary>
public sealed record Batching(long Transactions, long BrokerMessages, long Events)
{
    public double? EventsPerMessage => BrokerMessages == 0 ? null : (double)Events / BrokerMessages;
    public double? MessagesPerTransaction => Transactions == 0 ? null : (double)BrokerMessages / Transactions;
    public double? EventsPerTransaction => Transactions == 0 ? null : (double)Events / Transactions;
}

/// <summary>
/// What a scenario's events cost in CPU: each metered process's CPU seconds over the measured window divided by the
/// events counted in it, and the server processes' sum (the pipeline, or the ceiling's Kestrel) as a multiple of the
/// bare Kestrel ceiling's CPU per request measured in the same run.
/// </summary>
/// <param name="Events">The events the window's seconds are divided by (<paramref name="Counted"/> says which).</param>
/// <param name="PerStoredEvent">
/// Processes whose seconds are divided by the events the worker stored in the window (<see cref="Batching.Events"/>)
/// rather than by <paramref name="Events"/>: the worker and PostgreSQL, which fall behind the API when the load is more
/// than they can store, so that the events accepted in a window are not the events they worked on in it.
/// </param>
/// <param name="CpuSeconds">Per metered process; null when it could not be metered (gone, restarted, not found).</param>
/// <param name="ServerProcesses">The processes that make up the system under test, summed for <see cref="ServerMicrosPerEvent"/>.</param>
/// <param name="CeilingMicrosPerRequest">The bare Kestrel ceiling's CPU per request, for the multiple.</param>
/// <param name="Goal">The multiple of the floor this scenario aims at (issue #25), if any.</param>
/// <param name="FloorMicrosPerEvent">
/// The floor of the parts the design requires, measured in the same run (issue #25): the bare Kestrel request's CPU
/// divided by the events a request carries, plus PostgreSQL's CPU per row of a binary COPY of the same rows.
/// </param>
public sealed record ScenarioCost(long Events, string Counted, IReadOnlyDictionary<string, double?> CpuSeconds, IReadOnlyList<string> ServerProcesses,
    Batching? Batching = null, double? CeilingMicrosPerRequest = null, double? Goal = null, IReadOnlyCollection<string>? PerStoredEvent = null,
    double? FloorMicrosPerEvent = null)
{
    /// <summary>The events <paramref name="process"/>'s seconds are divided by: stored ones for <see cref="PerStoredEvent"/> when known, else <see cref="Events"/>.</summary>
    public long EventsFor(string process) =>
        PerStoredEvent?.Contains(process) == true && Batching is { Events: > 0 } stored ? stored.Events : Events;

    /// <summary>µs of CPU per event of one process; null if it was not metered or no event was counted.</summary>
    public double? MicrosPerEvent(string process) =>
        EventsFor(process) is > 0 and var events && CpuSeconds.TryGetValue(process, out var s) && s is { } seconds ? seconds * 1e6 / events : null;

    /// <summary>The system under test's µs per event: the sum over its processes, null unless every one was metered.</summary>
    public double? ServerMicrosPerEvent =>
        ServerProcesses.Select(MicrosPerEvent).ToList() is var each && each.All(m => m is not null) && each.Count > 0 ? each.Sum() : null;

    /// <summary>
    /// µs per event of CPU the metered processes do not account for: the whole machine's busy time less theirs, over
    /// <see cref="Events"/>. Other work on the machine (another test run, a build) shows here; it slows everything down.
    /// </summary>
    public double? OthersMicrosPerEvent =>
        Events > 0 && CpuSeconds.TryGetValue(ProcessCpu.Machine, out var m) && m is { } machine
        && CpuSeconds.Where(p => p.Key != ProcessCpu.Machine).All(p => p.Value is not null)
            ? Math.Max(0, machine - CpuSeconds.Where(p => p.Key != ProcessCpu.Machine).Sum(p => p.Value!.Value)) * 1e6 / Events
            : null;

    /// <summary>The system under test's CPU per event as a multiple of the floor's (<see cref="FloorMicrosPerEvent"/>).</summary>
    public double? FloorMultiple => ServerMicrosPerEvent is { } own && FloorMicrosPerEvent is > 0 ? own / FloorMicrosPerEvent : null;

    /// <summary>The system under test's CPU per event as a multiple of the ceiling's CPU per request.</summary>
    public double? CeilingMultiple => ServerMicrosPerEvent is { } own && CeilingMicrosPerRequest is > 0 ? own / CeilingMicrosPerRequest : null;
}
