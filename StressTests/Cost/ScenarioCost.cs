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
/// <param name="CpuSeconds">Per metered process; null when it could not be metered (gone, restarted, not found).</param>
/// <param name="ServerProcesses">The processes that make up the system under test, summed for <see cref="ServerMicrosPerEvent"/>.</param>
/// <param name="CeilingMicrosPerRequest">The bare Kestrel ceiling's CPU per request, for the multiple.</param>
/// <param name="Goal">The multiple of the ceiling this scenario aims at (issue #14), if any.</param>
public sealed record ScenarioCost(long Events, string Counted, IReadOnlyDictionary<string, double?> CpuSeconds, IReadOnlyList<string> ServerProcesses,
    Batching? Batching = null, double? CeilingMicrosPerRequest = null, double? Goal = null)
{
    /// <summary>µs of CPU per event of one process; null if it was not metered or no event was counted.</summary>
    public double? MicrosPerEvent(string process) =>
        Events > 0 && CpuSeconds.TryGetValue(process, out var s) && s is { } seconds ? seconds * 1e6 / Events : null;

    /// <summary>The system under test's µs per event: the sum over its processes, null unless every one was metered.</summary>
    public double? ServerMicrosPerEvent =>
        ServerProcesses.Select(MicrosPerEvent).ToList() is var each && each.All(m => m is not null) && each.Count > 0 ? each.Sum() : null;

    /// <summary>The system under test's CPU per event as a multiple of the ceiling's CPU per request.</summary>
    public double? CeilingMultiple => ServerMicrosPerEvent is { } own && CeilingMicrosPerRequest is > 0 ? own / CeilingMicrosPerRequest : null;
}
