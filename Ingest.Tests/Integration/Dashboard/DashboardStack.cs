using System.Net;
using Dapper;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Queries;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>
/// What a dashboard test class opens in the browser: the real API and the real worker as child processes, as they run
/// in production, on the run's PostgreSQL and a RabbitMQ queue of their own, with a source whose write and read keys
/// the API has loaded. Events are sent as a tracking library sends them, over HTTP, and stored by the worker.
/// </summary>
public sealed class DashboardStack : IAsyncDisposable
{
    DashboardStack(WorkerProcess worker, ApiProcess api, (string SourceId, string WriteKey, string ReadKey) source)
    {
        Worker = worker;
        Api = api;
        (SourceId, WriteKey, ReadKey) = source;
        Http = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(10) };
    }

    public ApiProcess Api { get; }

    /// <summary>A client of the API process, for what a test asks the API itself.</summary>
    public HttpClient Http { get; }
    public WorkerProcess Worker { get; }
    public string SourceId { get; }
    public string WriteKey { get; }
    public string ReadKey { get; }

    /// <summary>Creates a source, starts the worker, then the API on the worker's queue, and waits until the API has loaded the source's keys.</summary>
    /// <param name="apiSettings">The API's environment over the test defaults (e.g. Ingest__RateLimit__EventsPerSecond), as <see cref="ApiProcess.StartAsync"/> takes it.</param>
    public static async Task<DashboardStack> StartAsync(IDictionary<string, string>? apiSettings = null)
    {
        var source = await TestSources.CreateAsync();
        var queue = $"dashboard-{Guid.NewGuid():N}";
        var worker = await WorkerProcess.StartAsync(queue);
        ApiProcess api;
        try
        {
            api = await ApiProcess.StartAsync(new Dictionary<string, string>(apiSettings ?? new Dictionary<string, string>()) { ["Ingest__Broker__Queue"] = queue });
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }
        var stack = new DashboardStack(worker, api, source);
        try
        {
            await stack.KeysLoadedAsync(stack.ReadKey);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>Another source with a write and a read key, once the API has loaded them (it reloads keys every second).</summary>
    public async Task<(string SourceId, string WriteKey, string ReadKey)> AddSourceAsync(string[]? origins = null)
    {
        var source = await TestSources.CreateAsync(origins);
        await KeysLoadedAsync(source.ReadKey);
        return source;
    }

    /// <summary>
    /// POSTs <paramref name="count"/> track events to /v1/track, one request each, in order: event i is named
    /// <c>eventNames[i % eventNames.Count]</c>, comes from user <c>user-{i}</c> and has the property <c>n = i</c>. Returns
    /// their messageIds once the worker has stored them all. They go to this stack's source unless
    /// <paramref name="writeKey"/> names another (<see cref="AddSourceAsync"/>).
    /// </summary>
    public async Task<IReadOnlyList<string>> SendTrackEventsAsync(int count, IReadOnlyList<string> eventNames, string? writeKey = null, CancellationToken ct = default)
    {
        var messageIds = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var messageId = Guid.NewGuid().ToString();
            using var request = ApiHost.Track(writeKey ?? WriteKey, new
            {
                @event = eventNames[i % eventNames.Count],
                userId = $"user-{i}",
                messageId,
                properties = new { n = i },
            });
            using var response = await Http.SendAsync(request, ct);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"POST /v1/track: {await response.Content.ReadAsStringAsync(ct)}");
            messageIds.Add(messageId);
        }
        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        async Task<long> Stored(CancellationToken t) => await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from events where message_id = any(@messageIds)", new { messageIds = messageIds.ToArray() }, cancellationToken: t));
        await Eventually.HoldsAsync(async t => await Stored(t) == count, TimeSpan.FromSeconds(30),
            () => $"the worker to store {count} events:\n{Worker.Output}");
        return messageIds;
    }

    Task KeysLoadedAsync(string readKey) => ReadSide.ReadKeyLoadedAsync(Http, readKey);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        // The worker first: the API deletes the queue they share.
        await Worker.DisposeAsync();
        await Api.DisposeAsync();
    }
}
