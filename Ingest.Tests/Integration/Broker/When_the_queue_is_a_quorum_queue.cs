using System.Net;
using Dapper;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Broker;

/// <summary>Both hosts as processes with Ingest:Broker:QueueType quorum, on the stack's single RabbitMQ node.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_the_queue_is_a_quorum_queue
{
    static readonly Dictionary<string, string> Quorum = new() { ["Ingest__Broker__QueueType"] = "quorum" };

    [Test]
    public async Task The_hosts_declare_it_alike_and_every_posted_event_is_stored_once(CancellationToken ct)
    {
        var (source, key, _) = await TestSources.CreateAsync();
        await using var api = await ApiProcess.StartAsync(Quorum, ct);
        await using var worker = await WorkerProcess.StartAsync(api.Queue, Quorum);
        using var client = new HttpClient { BaseAddress = api.Url };
        var ids = Enumerable.Range(0, 2_000).Select(i => $"quorum-{i}").ToList();

        await Parallel.ForEachAsync(ids.Chunk(50), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (chunk, t) =>
        {
            using var response = await client.SendAsync(ApiHost.Post("/v1/batch", new { batch = chunk.Select(id => new { type = "track", userId = "u1", @event = "Quorum", messageId = id }) }, key), t);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync(t));
        });

        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        async Task<List<string>> Stored() => (await conn.QueryAsync<string>(new CommandDefinition(
            "select message_id from events where source_id = @source and message_id like 'quorum-%'", new { source }, cancellationToken: ct))).ToList();
        await Eventually.HoldsAsync(async _ => (await Stored()).Count >= ids.Count, TimeSpan.FromSeconds(60), () => "2,000 events stored");
        Assert.That(await Stored(), Is.EquivalentTo(ids), "each posted event stored exactly once");
        Assert.That(await StackQueues.TypeOfAsync(api.Queue), Is.EqualTo("quorum"), "as rabbitmqctl list_queues shows it");
    }
}
