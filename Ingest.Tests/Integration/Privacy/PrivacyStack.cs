using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Privacy;

/// <summary>
/// A source with write, read and admin keys; the real API in process, publishing to a queue of its own that no worker
/// consumes until <see cref="StartDrainingWorkerAsync"/>; and a worker process that runs privacy requests, consuming
/// another queue of its own (<see cref="PrivacyQueue"/>, whose _error queue is the dead-letter queue it rewrites).
/// So events wait in RabbitMQ while a request runs, as they do while the workers are down.
/// </summary>
public sealed class PrivacyStack : IAsyncDisposable
{
    PrivacyStack((string Source, string Write, string Read, string Admin) keys, ApiHost api, HttpClient http, string privacyQueue)
    {
        (SourceId, WriteKey, ReadKey, AdminKey) = keys;
        (Api, Http, PrivacyQueue) = (api, http, privacyQueue);
    }

    public string SourceId { get; }
    public string WriteKey { get; }
    public string ReadKey { get; }
    public string AdminKey { get; }
    public ApiHost Api { get; }
    public HttpClient Http { get; }
    public string PrivacyQueue { get; }
    public WorkerProcess PrivacyWorker { get; set; } = null!;
    WorkerProcess? _drainer;

    /// <summary>The end of the draining worker's output, for an assertion's message.</summary>
    public string DrainerOutput => _drainer?.Output is { } o ? o[^Math.Min(4000, o.Length)..] : "(no draining worker)";

    /// <param name="oneQueue">The API publishes to the privacy worker's queue, as in production: its dead letters are the ones the API counts.</param>
    public static async Task<PrivacyStack> StartAsync(IDictionary<string, string>? workerSettings = null, bool oneQueue = false)
    {
        var (source, write, read) = await TestSources.CreateAsync();
        var admin = await TestSources.CreateAdminKeyAsync(source);
        var privacyQueue = EventSender.NewQueue("privacy");
        var api = new ApiHost(oneQueue ? new() { ["Ingest:Broker:Queue"] = privacyQueue } : null);
        var stack = new PrivacyStack((source, write, read, admin), api, await api.StartAsync(write), privacyQueue);
        stack.PrivacyWorker = await stack.StartPrivacyWorkerAsync(workerSettings);
        return stack;
    }

    public Task<WorkerProcess> StartPrivacyWorkerAsync(IDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string> { ["Ingest__Privacy__PollInterval"] = "00:00:00.200" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) all[key] = value;
        return WorkerProcess.StartAsync(PrivacyQueue, all);
    }

    /// <summary>A worker on the API's queue: what waited there is stored now.</summary>
    public async Task StartDrainingWorkerAsync() => _drainer = await WorkerProcess.StartAsync(Api.Queue);

    public HttpRequestMessage Admin(HttpMethod method, string path, object? body = null, string? key = null) => new(method, path)
    {
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", key ?? AdminKey) },
        Content = body is null ? null : JsonContent.Create(body),
    };

    /// <summary>POSTs a request for these subjects ({"userId": …} or {"anonymousId": …}) and returns its id.</summary>
    public async Task<Guid> RequestAsync(string type, params object[] subjects)
    {
        using var response = await Http.SendAsync(Admin(HttpMethod.Post, "/v1/privacy/requests", new { type, subjects }));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> StatusAsync(Guid id)
    {
        using var response = await Http.SendAsync(Admin(HttpMethod.Get, $"/v1/privacy/requests/{id}"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Waits until the request is done and returns its status document (the receipt).</summary>
    public async Task<JsonElement> DoneAsync(Guid id, TimeSpan? within = null)
    {
        JsonElement status = default;
        await Eventually.HoldsAsync(async _ => (status = await StatusAsync(id)).GetProperty("status").GetString() == "done",
            within ?? TimeSpan.FromSeconds(60), () => $"request {id} done; last: {status}\n{PrivacyWorker.Output[^Math.Min(3000, PrivacyWorker.Output.Length)..]}");
        return status;
    }

    /// <summary>suppressedEvents of GET /v1/privacy/requests: the events this API answered 200 and did not publish.</summary>
    public async Task<long> SuppressedEventsAsync(CancellationToken ct = default)
    {
        using var list = await Http.SendAsync(Admin(HttpMethod.Get, "/v1/privacy/requests"), ct);
        return (await list.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("suppressedEvents").GetInt64();
    }

    /// <summary>What GET /v1/privacy/subjects says of a subject.</summary>
    public async Task<JsonElement> SubjectAsync(string kind, string id)
    {
        using var response = await Http.SendAsync(Admin(HttpMethod.Get, $"/v1/privacy/subjects?{kind}={Uri.EscapeDataString(id)}"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Stored events of this source, by the given user id or anonymous id (null: all of them).</summary>
    public async Task<long> StoredAsync(string? userId = null, string? anonymousId = null)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("""
            select count(*) from events where source_id = @SourceId
              and (@UserId::text is null or user_id = @UserId) and (@AnonymousId::text is null or anonymous_id = @AnonymousId)
            """, new { SourceId, UserId = userId, AnonymousId = anonymousId });
    }

    public async Task<HttpResponseMessage> SendAsync(string path, object body, string contentType = "application/json") =>
        await Http.SendAsync(ApiHost.Post(path, body, WriteKey, contentType));

    public async ValueTask DisposeAsync()
    {
        if (_drainer is not null) await _drainer.DisposeAsync();
        await PrivacyWorker.DisposeAsync();
        Api.Dispose();
    }
}
