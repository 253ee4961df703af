using Dapper;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>A client stops reading its stream while thousands of rows are stored, on an instance that keeps 100 rows for it.</summary>
public sealed class When_a_tailing_client_reads_too_slowly
{
    const int Rows = 3000;

    const string InsertMany = """
        insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at, properties)
        select @Source, @Prefix || g, 'track', 'Bulk', 'u1', now(), now(), jsonb_build_object('padding', repeat('x', 2000))
        from generate_series(1, @Count) as g
        """;

    [Test]
    public async Task It_is_told_and_disconnected_and_catches_up_exactly_with_Last_Event_ID()
    {
        var (source, writeKey, readKey) = await TestSources.CreateAsync();
        using var api = new ApiHost(new() { ["Ingest:Queries:StreamClientBuffer"] = "100" });
        using var http = await api.StartAsync(writeKey);
        await ReadSide.ReadKeyLoadedAsync(http, readKey);

        var received = new List<long>();
        string lastEventId;
        await using (var slow = await SseClient.OpenAsync("/v1/events/stream", readKey, api: http))
        {
            await using (var conn = await TestStack.Database.OpenConnectionAsync())
                for (var i = 0; i < Rows / 100; i++) // many commits, many reads: the client's rows pile up
                    await conn.ExecuteAsync(InsertMany, new { Source = source, Prefix = $"bulk-{i}-", Count = 100 });
            var first = await slow.NextAsync(TimeSpan.FromSeconds(10));
            received.Add(first.Id);
            lastEventId = first.LastEventId;
            await slow.CommentAsync("too far behind", TimeSpan.FromSeconds(30));
        }

        await using var again = await SseClient.OpenAsync("/v1/events/stream", readKey, lastEventId: lastEventId, api: http);
        while (received.Count < Rows) received.Add((await again.NextAsync(TimeSpan.FromSeconds(10))).Id);
        var sentinel = StoredEvent.Track(source, "Sentinel", "u1", DateTime.UtcNow);
        await StoredEvent.InsertAsync([sentinel]);
        Assert.That((await again.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(sentinel.Id), "nothing more, nothing twice");
        await using var db = await TestStack.Database.OpenConnectionAsync();
        var stored = (await db.QueryAsync<long>("select id from events where source_id = @source and event = 'Bulk' order by id", new { source })).ToList();
        Assert.That(received, Is.EqualTo(stored), "every row once, in order");
    }
}
