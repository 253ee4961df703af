using System.Net;
using Npgsql;
using StressTests.Ceilings;
using StressTests.Cost;
using StressTests.Pipeline;
using StressTests.Reports;
using StressTests.Runner;

namespace StressTests.Scenarios;

/// <summary>
/// The ceilings, measured once per test run by the same runner, on demand of the first scenario that compares with
/// them, and added to the run's report like any scenario.
/// </summary>
public static class MeasuredCeilings
{
    public const string Kestrel = "bare Kestrel";
    public const string Copy = "PostgreSQL COPY";

    static readonly Lock Gate = new();
    static Task<ScenarioResult>? kestrel;
    static Task<ScenarioResult>? copy;

    /// <summary>Single track events against a minimal API in a process of its own that binds them and answers 202: 64 clients, closed model.</summary>
    public static Task<ScenarioResult> KestrelAsync(CancellationToken ct)
    {
        lock (Gate) return kestrel ??= MeasureKestrelAsync(ct);
    }

    /// <summary>The bare Kestrel ceiling's result if it has been measured in this run, else null (nothing is started).</summary>
    public static ScenarioResult? KestrelIfMeasured()
    {
        lock (Gate) return kestrel is { IsCompletedSuccessfully: true } done ? done.Result : null;
    }

    /// <summary>The COPY floor's result if it has been measured in this run, else null (nothing is started).</summary>
    public static ScenarioResult? CopyIfMeasured()
    {
        lock (Gate) return copy is { IsCompletedSuccessfully: true } done ? done.Result : null;
    }

    /// <summary>
    /// The floor of a scenario whose requests carry <paramref name="eventsPerRequest"/> events each (issue #25): the bare
    /// Kestrel request's CPU over the events it carries, plus PostgreSQL's CPU per COPY row; null unless both were measured.
    /// </summary>
    public static double? FloorMicrosPerEvent(int eventsPerRequest) =>
        KestrelIfMeasured()?.Cost?.ServerMicrosPerEvent is { } request && CopyIfMeasured()?.Cost?.ServerMicrosPerEvent is { } row
            ? request / eventsPerRequest + row
            : null;

    /// <summary>Binary COPY of 5,000 event rows at a time from one connection, into a logged table shaped like events (indexes included), dropped afterwards.</summary>
    /// <remarks>In the database of the pipeline bench.sh started, else in a scratch database migrated for it.</remarks>
    public static Task<ScenarioResult> CopyAsync(CancellationToken ct)
    {
        lock (Gate) return copy ??= MeasureCopyAsync(ct);
    }

    static async Task<ScenarioResult> MeasureKestrelAsync(CancellationToken ct)
    {
        await using var server = await BareKestrel.StartAsync(ct);
        var url = new Uri(server.Url, "/v1/track");
        var scenario = new Scenario("ceiling-bare-kestrel",
            (context, token) => Http.PostAsync(url, EventBodies.Track($"k-{context.Invocation}"), null, HttpStatusCode.Accepted, 1, token),
            new ClosedModel(Clients: 64, Duration: Settings.Duration)) { WarmUp = Settings.WarmUp };
        var result = await new ScenarioRunner(TestContext.Progress) { Cpu = server.Cpu }.RunAsync(scenario, ct);
        if (result.Cpu is { } window)
            result.Cost = new ScenarioCost(result.Items, "requests answered 202 in the window",
                window.AllSeconds(), [ProcessCpu.Kestrel]);
        RunReport.Add(result);
        return result;
    }

    static async Task<ScenarioResult> MeasureCopyAsync(CancellationToken ct)
    {
        await using var scratch = PipelineUnderTest.ExternalConnectionString is null ? await ScratchDatabase.CreateAsync(privateCluster: false, ct) : null;
        await using var connection = new NpgsqlConnection(scratch?.ConnectionString ?? PipelineUnderTest.ExternalConnectionString);
        await connection.OpenAsync(ct);
        var copy = await PostgresCopy.CreateAsync(connection, rowsPerCopy: 5000, ct);
        var scenario = new Scenario("ceiling-postgres-copy", copy.CopyAsync, new ClosedModel(Clients: 1, Duration: Settings.Duration))
            { WarmUp = Settings.WarmUp };
        // PostgreSQL's CPU per row: the whole cluster, as the pipeline's scenarios meter it.
        var postmaster = await ProcessCpu.FindPostmasterAsync(connection, ct);
        var cpu = new ProcessCpu(postmaster is { } pid ? [ProcessCpu.Self, new MeteredProcess(ProcessCpu.Postgres, pid, WithDescendants: true)] : [ProcessCpu.Self]);
        try
        {
            var result = await new ScenarioRunner(TestContext.Progress) { Cpu = cpu }.RunAsync(scenario, ct);
            if (result.Cpu is { } window && postmaster is not null)
                result.Cost = new ScenarioCost(result.Items, "rows copied in the window", window.AllSeconds(), [ProcessCpu.Postgres]);
            RunReport.Add(result);
            return result;
        }
        finally
        {
            await copy.DropAsync(CancellationToken.None);
        }
    }
}
