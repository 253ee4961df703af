using System.Diagnostics;
using System.Net;
using Dapper;
using Npgsql;
using StressTests.Cost;

namespace StressTests.Pipeline;

/// <summary>A source of the pipeline, with its write key.</summary>
public sealed record Source(string Id, string WriteKey);

/// <summary>
/// The running pipeline the scenarios load: Ingest.Api and Ingest.Worker against the stack's RabbitMQ and PostgreSQL.
/// Either the one deploy/bench.sh started (INGEST_API_URL and ConnectionStrings__Postgres set), or started here as
/// child processes from the repository's build output, in a database of their own and on a queue of their own so
/// that nothing else on the broker consumes their messages. Each scenario gets a source of its own (through the
/// worker's command line), so its stored rows are counted by source id alone.
/// </summary>
public sealed class PipelineUnderTest : IAsyncDisposable
{
    readonly List<HostProcess> hosts = [];
    readonly Func<CancellationToken, Task>? cleanUp;

    PipelineUnderTest(Uri api, string connectionString, PostgresControl postgres, Func<CancellationToken, Task>? cleanUp)
    {
        Api = api;
        ConnectionString = connectionString;
        Postgres = postgres;
        this.cleanUp = cleanUp;
        Database = NpgsqlDataSource.Create(connectionString);
    }

    public Uri Api { get; }
    public string ConnectionString { get; }
    public NpgsqlDataSource Database { get; }

    /// <summary>Stops and starts the PostgreSQL this pipeline writes to, through deploy/stack.sh.</summary>
    public PostgresControl Postgres { get; }

    static string LogDirectory => Path.Combine(Repo.Root, ".local", "stress-logs");

    /// <summary>The database of the pipeline deploy/bench.sh started (ConnectionStrings__Postgres), when INGEST_API_URL is set.</summary>
    public static string? ExternalConnectionString =>
        Environment.GetEnvironmentVariable("INGEST_API_URL") is { Length: > 0 } ? Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") : null;

    /// <summary>The pipeline deploy/bench.sh started when INGEST_API_URL is set, else one started here on the stack.</summary>
    public static async Task<PipelineUnderTest> ExternalOrStartAsync(CancellationToken ct)
    {
        if (Environment.GetEnvironmentVariable("INGEST_API_URL") is { Length: > 0 } api)
        {
            var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
                ?? throw new InvalidOperationException("INGEST_API_URL is set but ConnectionStrings__Postgres is not: the scenarios count stored events there.");
            var url = new Uri(api);
            if (!url.IsLoopback) throw new InvalidOperationException($"INGEST_API_URL {api} is not on this machine: the scenarios load only 127.0.0.1.");
            var external = new PipelineUnderTest(url, connectionString, new PostgresControl(Stack.PostgresPort, StackDirectory: null), cleanUp: null);
            await external.MeterAsync(Pid("INGEST_API_PID"), Pid("INGEST_WORKER_PID"), ct);
            return external;
        }
        return await StartAsync(privatePostgres: false, ct);
    }

    /// <summary>
    /// Starts Ingest.Api and Ingest.Worker as child processes. With <paramref name="privatePostgres"/>, on a
    /// PostgreSQL cluster of their own (deploy/stack.sh with its own folder and port), which a test may stop and start
    /// without failing the other tests that share the stack's cluster; else in a fresh database on the stack's cluster.
    /// </summary>
    /// <param name="settings">Both hosts' settings over the defaults, named as in appsettings ("Ingest:Broker:MaxQueueBytes").</param>
    public static async Task<PipelineUnderTest> StartAsync(bool privatePostgres, CancellationToken ct, IReadOnlyDictionary<string, string>? settings = null)
    {
        var database = await ScratchDatabase.CreateAsync(privatePostgres, ct);
        var pipeline = new PipelineUnderTest(FreePort.LoopbackUrl(), database.ConnectionString, database.Postgres, _ => database.DisposeAsync().AsTask());
        try
        {
            var hostSettings = Stack.HostSettings(database.ConnectionString, queue: database.Name.Replace('_', '-'));
            foreach (var (key, value) in settings ?? new Dictionary<string, string>()) hostSettings[key] = value;
            var worker = pipeline.StartHost("Ingest.Worker", hostSettings, database.Name);
            var api = pipeline.StartHost("Ingest.Api", hostSettings, database.Name, pipeline.Api);
            await worker.WaitUntilReadyAsync("Ingest.Worker was not ready", ct);
            await api.WaitUntilReadyAsync("Ingest.Api was not ready", ct);
            await pipeline.MeterAsync(api.Id, worker.Id, ct);
            return pipeline;
        }
        catch
        {
            await pipeline.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The CPU time of the pipeline's processes: the API and the worker (found by <see cref="MeterAsync"/>), the stack's
    /// RabbitMQ node and the PostgreSQL cluster this pipeline writes to, each with its descendants, and this test process.
    /// </summary>
    public ProcessCpu Cpu { get; private set; } = new([ProcessCpu.Self]);

    /// <summary>Processes that could not be found, each with why: shown in the reports.</summary>
    public List<string> Unmetered { get; } = [];

    /// <summary>The processes a scenario's CPU is split over, the load generator aside: what the pipeline costs.</summary>
    public static IReadOnlyList<string> ServerProcesses { get; } = [ProcessCpu.Api, ProcessCpu.Worker, ProcessCpu.RabbitMq, ProcessCpu.Postgres];

    static int? Pid(string variable) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), System.Globalization.CultureInfo.InvariantCulture, out var pid) ? pid : null;

    async Task MeterAsync(int? apiPid, int? workerPid, CancellationToken ct)
    {
        var processes = new List<MeteredProcess> { ProcessCpu.Self };
        void Add(string name, int? pid, string missing)
        {
            if (pid is { } p) processes.Add(new MeteredProcess(name, p, WithDescendants: true));
            else Unmetered.Add($"{name}: {missing}");
        }
        Add(ProcessCpu.Api, apiPid, "INGEST_API_PID not set by whoever started it");
        Add(ProcessCpu.Worker, workerPid, "INGEST_WORKER_PID not set by whoever started it");
        Add(ProcessCpu.RabbitMq, ProcessCpu.FindRabbitMq(Stack.AmqpPort), $"no beam.smp with -epmd_port {Stack.AmqpPort + 11} and no pid file");
        Add(ProcessCpu.Postgres, await ProcessCpu.FindPostmasterAsync(Database, ct), "the backend's parent was not readable");
        Cpu = new ProcessCpu(processes);
    }

    /// <summary>
    /// One more Ingest.Worker, on a queue of its own against this pipeline's database, with <paramref name="settings"/>
    /// (environment variables such as Ingest__Worker__MessageLimit) over its configuration; ready when this returns.
    /// It stops when the returned worker is disposed, or with the pipeline.
    /// </summary>
    public async Task<ExtraWorker> StartWorkerAsync(string queue, IReadOnlyDictionary<string, string> settings, CancellationToken ct)
    {
        var all = Stack.HostSettings(ConnectionString, queue);
        foreach (var (key, value) in settings) all[key] = value;
        var host = StartHost("Ingest.Worker", all, queue);
        await host.WaitUntilReadyAsync("Ingest.Worker was not ready", ct);
        return new ExtraWorker(host);
    }

    /// <summary>A new source and write key, made with the worker's command line (source add, key create).</summary>
    public async Task<Source> CreateSourceAsync(string scenario, CancellationToken ct)
    {
        var id = $"{scenario}-{Guid.NewGuid():N}"[..Math.Min(scenario.Length + 9, 60)].ToLowerInvariant();
        var env = new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = ConnectionString };
        var added = await RunWorkerCommandAsync(env, ct, "source", "add", id);
        if (added.ExitCode != 0) throw new InvalidOperationException($"source add {id} failed (exit code {added.ExitCode}): {added.Output}");
        var key = await RunWorkerCommandAsync(env, ct, "key", "create", id, "write");
        if (key.ExitCode != 0) throw new InvalidOperationException($"key create {id} failed (exit code {key.ExitCode}): {key.Output}");
        var source = new Source(id, key.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1]);
        await WaitUntilKeyIsAcceptedAsync(source, ct);
        return source;
    }

    /// <summary>A read key of <paramref name="sourceId"/>, made with the worker's command line (key create), once the API accepts it.</summary>
    public async Task<string> CreateReadKeyAsync(string sourceId, CancellationToken ct)
    {
        var created = await RunWorkerCommandAsync(new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = ConnectionString }, ct, "key", "create", sourceId, "read");
        if (created.ExitCode != 0) throw new InvalidOperationException($"key create {sourceId} read failed: {created.Output}");
        var key = created.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        var url = new Uri(Api, "/v1/events?limit=1");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = Http.Bearer(key) } };
            using var response = await Http.Client.SendAsync(request, ct);
            if (response.IsSuccessStatusCode) return key;
            if (response.StatusCode != HttpStatusCode.Unauthorized || clock.Elapsed > TimeSpan.FromSeconds(30))
                throw new InvalidOperationException($"GET {url} with the new read key of {sourceId} was refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }

    /// <summary>The message id of the one event that checks a new key; left out of every count of stored events.</summary>
    public const string ProbeMessageId = "stress-key-probe";

    /// <summary>
    /// A running API may learn of a new key only after a while (a cache): sends one track event with the new key until it
    /// is no longer refused with 401, at most 30 s. Any other refusal fails the scenario at once, with the API's answer.
    /// </summary>
    async Task WaitUntilKeyIsAcceptedAsync(Source source, CancellationToken ct)
    {
        var url = new Uri(Api, "/v1/track");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var result = await Http.PostAsync(url, EventBodies.Track(ProbeMessageId), Http.Basic(source.WriteKey), HttpStatusCode.OK, 1, ct);
            if (result.IsOk) return;
            if (result.StatusCode != (int)HttpStatusCode.Unauthorized || clock.Elapsed > TimeSpan.FromSeconds(30))
                throw new InvalidOperationException($"POST {url} with the new write key of {source.Id} was refused: {result.Error}");
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }

    /// <summary>
    /// The events a scenario stored: those of its source, without the key probe, and with @Since those sent since then
    /// (a source filled with generated events before the scenario holds older ones).
    /// </summary>
    public const string ScenarioEvents = $"""source_id = @Source and (@Since::timestamptz is null or "timestamp" >= @Since) and message_id <> '{ProbeMessageId}'""";

    const string CountStoredEvents = $"select count(*) from events where {ScenarioEvents}";

    public async Task<long> CountStoredAsync(string sourceId, CancellationToken ct, DateTimeOffset? since = null)
    {
        await using var conn = await Database.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountStoredEvents, new { Source = sourceId, Since = since }, cancellationToken: ct));
    }

    /// <summary>Polls until <paramref name="expected"/> events of the source (sent since <paramref name="since"/>) are stored or the time is up; returns the last count.</summary>
    public async Task<long> WaitForStoredAsync(string sourceId, long expected, TimeSpan timeout, CancellationToken ct, DateTimeOffset? since = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            long count;
            try
            {
                count = await CountStoredAsync(sourceId, ct, since);
            }
            catch (NpgsqlException) when (clock.Elapsed < timeout)
            {
                count = -1; // the database is still coming back
            }
            if (count >= expected || clock.Elapsed >= timeout) return count;
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }

    HostProcess StartHost(string project, IEnumerable<KeyValuePair<string, string?>> settings, string runName, Uri? url = null)
    {
        var host = LaunchHost(project, settings, runName, url);
        hosts.Add(host);
        return host;
    }

    /// <summary>Starts <paramref name="project"/>'s build output (dotnet &lt;dll&gt;), its output in a log of the run.</summary>
    internal static HostProcess LaunchHost(string project, IEnumerable<KeyValuePair<string, string?>> settings, string runName, Uri? url = null)
    {
        Directory.CreateDirectory(LogDirectory);
        return HostProcess.Start(Repo.HostDll(project), settings, Path.Combine(LogDirectory, $"{runName}-{project}.log"), url);
    }

    internal static Task<(int ExitCode, string Output)> RunWorkerCommandAsync(Dictionary<string, string> environment, CancellationToken ct, params string[] args) =>
        ProcessRunner.RunAsync("dotnet", [Repo.HostDll("Ingest.Worker"), .. args], environment, TimeSpan.FromSeconds(60), ct);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts) await host.DisposeAsync();
        await Database.DisposeAsync();
        if (cleanUp is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await cleanUp(timeout.Token);
        }
    }
}

/// <summary>A worker started by <see cref="PipelineUnderTest.StartWorkerAsync"/>: killed when disposed (the pipeline disposes the process).</summary>
public sealed class ExtraWorker(HostProcess host) : IAsyncDisposable
{
    /// <summary>The worker_host it writes into ingest_transactions.</summary>
    public string WorkerHost { get; } = $"{Environment.MachineName}/{host.Id}";

    public async ValueTask DisposeAsync()
    {
        if (host.HasExited) return;
        await host.KillAsync();
    }
}

/// <summary>Stops and starts a PostgreSQL cluster through deploy/stack.sh (stop-postgres, start-postgres).</summary>
/// <param name="StackDirectory">INGEST_STACK_DIR, or null for the stack's own.</param>
public sealed record PostgresControl(int Port, string? StackDirectory)
{
    public Task StopAsync(CancellationToken ct) => StackAsync("stop-postgres", ct);

    public Task StartAsync(CancellationToken ct) => StackAsync("start-postgres", ct);

    Task StackAsync(string command, CancellationToken ct)
    {
        var environment = new Dictionary<string, string> { ["INGEST_PG_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (StackDirectory is not null) environment["INGEST_STACK_DIR"] = StackDirectory;
        return Stack.RunScriptAsync(command, environment, TimeSpan.FromSeconds(90), ct);
    }
}
