using System.Diagnostics;
using System.Net;
using Dapper;
using Ingest.Broker;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// Ingest:Broker:MaxQueueBytes on a real RabbitMQ, with nothing consuming: the queue fills to its bound, then RabbitMQ
/// refuses each new message (reject-publish, a nack), each request past the bound answers 503 with Retry-After at once,
/// not when its confirm timeout is up, and what was refused never reaches the queue. A worker started with the same
/// bound drains it, and requests are accepted again. Classic and quorum alike.
/// </summary>
[TestFixture(QueueType.Classic), TestFixture(QueueType.Quorum)]
public sealed class When_the_queue_is_at_its_bound(QueueType type) : ApiTest
{
    const int Bound = 64 * 1024;
    static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(5);

    protected override Dictionary<string, string?> Settings => new()
    {
        ["Ingest:Broker:QueueType"] = type.ToString(),
        ["Ingest:Broker:MaxQueueBytes"] = Bound.ToString(),
        ["Ingest:Publish:ConfirmTimeout"] = ConfirmTimeout.ToString(),
    };

    /// <summary>About 16 KB on the queue: 10 events of 1.5 KB.</summary>
    HttpRequestMessage Batch(string name) => ApiHost.Post("/v1/batch", new
    {
        batch = Enumerable.Range(0, 10).Select(i => new { type = "track", userId = "u", @event = name, messageId = $"{name}-{i}", properties = new { pad = new string('p', 1500) } }),
    }, WriteKey);

    [Test]
    public async Task Requests_past_it_answer_503_at_once_and_none_of_their_events_is_stored()
    {
        var answers = new List<(string Name, HttpStatusCode Status, string Body, bool RetryAfter, TimeSpan Took)>();
        for (var i = 0; i < 8; i++)
        {
            var name = $"Batch {i}";
            var clock = Stopwatch.StartNew();
            using var answer = await Client.SendAsync(Batch(name));
            answers.Add((name, answer.StatusCode, await answer.Content.ReadAsStringAsync(), answer.Headers.RetryAfter is not null, clock.Elapsed));
        }

        var accepted = answers.TakeWhile(a => a.Status == HttpStatusCode.OK).ToList();
        var refused = answers.Skip(accepted.Count).ToList();
        Assert.That(accepted, Has.Count.InRange(1, Bound / (10 * 1500)), "accepted until the queue held its bound");
        Assert.That(refused, Is.Not.Empty);
        foreach (var (name, status, body, retryAfter, took) in refused)
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), $"{name}: {body}");
            Assert.That(body, Does.Contain("queue is full"), name);
            Assert.That(retryAfter, Is.True, $"{name}: Retry-After");
            Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(1)), $"{name}: refused at once, not when its {ConfirmTimeout.TotalSeconds:0} s confirm timeout is up");
        }

        // The worker declares the queue with the same bound (or it would stop at start) and drains it.
        await using var worker = await WorkerProcess.StartAsync(Api.Queue, new Dictionary<string, string>
        {
            ["Ingest__Broker__QueueType"] = type.ToString(),
            ["Ingest__Broker__MaxQueueBytes"] = Bound.ToString(),
        });
        using var after = await Client.SendAsync(Batch("After"));
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.OK), "accepted again once the queue is below its bound");

        await using var conn = await TestStack.Database.OpenConnectionAsync();
        async Task<List<string>> Stored() => (await conn.QueryAsync<string>("select event from events where source_id = @SourceId", new { SourceId })).ToList();
        await Eventually.HoldsAsync(async _ => (await Stored()).Contains("After"), TimeSpan.FromSeconds(30), () => "the last request's events stored");
        var stored = await Stored();
        Assert.That(stored.Distinct(), Is.EquivalentTo(accepted.Select(a => a.Name).Append("After")), "the accepted requests' events are stored, the refused ones' never reached the queue");
        Assert.That(stored, Has.Count.EqualTo((accepted.Count + 1) * 10));
    }
}
