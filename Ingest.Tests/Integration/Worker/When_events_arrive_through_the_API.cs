using System.Net;
using Dapper;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Worker;

/// <summary>The whole write path: the real API in process, the real worker as a child process, one queue between them.</summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_events_arrive_through_the_API
{
    [Test]
    public async Task Ten_thousand_posted_events_are_stored_once_and_the_log_counts_them(CancellationToken ct)
    {
        var (source, key, _) = await TestSources.CreateAsync();
        using var api = new ApiHost();
        await using var worker = await WorkerProcess.StartAsync(api.Queue);
        using var client = await api.StartAsync(key);
        var ids = Enumerable.Range(0, 10_000).Select(i => $"api-{i}").ToList();

        // 100 batches of 100, 8 at a time, as a backend's Segment library sends them.
        await Parallel.ForEachAsync(ids.Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (chunk, t) =>
        {
            using var response = await client.SendAsync(ApiHost.Post("/v1/batch", new { batch = chunk.Select(id => new { type = "track", userId = "u1", @event = "Posted", messageId = id }) }, key), t);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });

        await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
        async Task<List<string>> Stored() => (await conn.QueryAsync<string>(new CommandDefinition(
            "select message_id from events where source_id = @source and message_id like 'api-%'", new { source }, cancellationToken: ct))).ToList();
        await Eventually.HoldsAsync(async _ => (await Stored()).Count >= 10_000, TimeSpan.FromSeconds(60), () => "10,000 events stored");
        var stored = await Stored();
        Assert.That(stored, Is.EquivalentTo(ids), "each posted event stored exactly once");
        var transactions = await EventSender.TransactionsOfAsync(worker, ct);
        Assert.That(transactions.Where(t => t.Status == "committed").Sum(t => t.Inserted), Is.EqualTo(10_000 + 1),
            "the transaction log counts every insert: the 10,000 and the API's warm-up event");
    }
}
