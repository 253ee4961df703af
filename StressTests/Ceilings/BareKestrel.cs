using StressTests.Cost;
using StressTests.Pipeline;

namespace StressTests.Ceilings;

/// <summary>
/// The HTTP ceiling: StressTests.Kestrel, a minimal API that binds the same small JSON event and answers 202, doing
/// nothing else, started from its build output on 127.0.0.1 (a free port) in a process of its own, so that its CPU
/// time is metered apart from the load generator's. Loaded by the same runner and client as the pipeline, so the
/// ratios compare like with like on this machine.
/// </summary>
public sealed class BareKestrel : IAsyncDisposable
{
    const string Project = "StressTests.Kestrel";
    readonly HostProcess process;

    BareKestrel(HostProcess process) => this.process = process;

    public Uri Url => process.Url;

    /// <summary>Its own process (it has no children) and the load generator's.</summary>
    public ProcessCpu Cpu => new([new MeteredProcess(ProcessCpu.Kestrel, process.Id, WithDescendants: false), ProcessCpu.Self]);

    public static async Task<BareKestrel> StartAsync(CancellationToken ct)
    {
        var kestrel = new BareKestrel(PipelineUnderTest.LaunchHost(Project, [], "ceiling"));
        try
        {
            await kestrel.process.WaitUntilReadyAsync($"{Project} was not ready", ct);
            return kestrel;
        }
        catch
        {
            await kestrel.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
