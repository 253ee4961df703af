using Dapper;

namespace Ingest.Tests.Integration.Queries;

/// <summary>Workers committing batch transactions side by side, each inserting over time, while a client tails the source.</summary>
public sealed class When_many_transactions_commit_concurrently
{
    const int Transactions = 20;
    const int RowsPerTransaction = 5;

    [Test]
    public async Task Every_row_is_delivered_once_each_transaction_whole_and_in_order()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        await using var client = await SseClient.OpenAsync("/v1/events/stream", readKey);

        var inserted = await Task.WhenAll(Enumerable.Range(0, Transactions).Select(async t =>
        {
            var random = new Random(t);
            await using var conn = await TestStack.Database.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            var ids = new List<long>();
            for (var i = 0; i < RowsPerTransaction; i++)
            {
                ids.Add(await conn.ExecuteScalarAsync<long>("""
                    insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at)
                    values (@Source, @MessageId, 'track', 'Concurrent', 'u1', now(), now()) returning id
                    """, new { Source = source, MessageId = Guid.NewGuid().ToString() }, tx));
                await Task.Delay(random.Next(0, 150));
            }
            await tx.CommitAsync();
            return ids;
        }));

        var received = new List<long>();
        for (var i = 0; i < Transactions * RowsPerTransaction; i++) received.Add((await client.NextAsync(TimeSpan.FromSeconds(10))).Id);
        var sentinel = StoredEvent.Track(source, "Sentinel", "u1", DateTime.UtcNow);
        await StoredEvent.InsertAsync([sentinel]);
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(sentinel.Id), "nothing more, nothing twice");

        Assert.That(received, Is.Unique);
        Assert.That(received, Is.EquivalentTo(inserted.SelectMany(ids => ids)), "every committed row");
        foreach (var ids in inserted)
        {
            var first = received.IndexOf(ids[0]);
            Assert.That(received.Skip(first).Take(ids.Count), Is.EqualTo(ids), "a transaction's rows together, in the order it inserted them");
        }
    }
}
