using Dapper;
using Npgsql;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// A batch transaction (a large COPY, a bisection) takes its ids at insert and commits after newer rows were streamed,
/// later than any look-back window.
/// </summary>
public sealed class When_a_transaction_commits_after_newer_ones_were_tailed
{
    [Test]
    public async Task Its_rows_are_delivered_once_however_late_it_commits()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        await using var client = await SseClient.OpenAsync("/v1/events/stream", readKey);
        await using var slow = await TestStack.Database.OpenConnectionAsync();
        await using var tx = await slow.BeginTransactionAsync();
        var late = await InsertLateAsync(tx, source);

        var newer = StoredEvent.Track(source, "Newer", "u1", DateTime.UtcNow);
        await StoredEvent.InsertAsync([newer]);
        Assert.That(newer.Id, Is.GreaterThan(late.Id));
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(newer.Id), "a committed row is not held back by an open transaction");

        await Task.Delay(TimeSpan.FromSeconds(6)); // longer than the 5 s the tail used to look back
        var meanwhile = StoredEvent.Track(source, "Meanwhile", "u1", DateTime.UtcNow);
        await StoredEvent.InsertAsync([meanwhile]);
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(meanwhile.Id));

        await tx.CommitAsync();
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(late.Id), "the late transaction's row, once it commits");
        var after = StoredEvent.Track(source, "After", "u1", DateTime.UtcNow);
        await StoredEvent.InsertAsync([after]);
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(after.Id), "and nothing twice");
    }

    [Test]
    public async Task A_client_that_reconnects_after_it_committed_receives_its_rows_once()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        await using var slow = await TestStack.Database.OpenConnectionAsync();
        await using var tx = await slow.BeginTransactionAsync();
        var late = await InsertLateAsync(tx, source);

        SseClient.Message lastSeen;
        var newer = StoredEvent.Track(source, "Newer", "u1", DateTime.UtcNow);
        await using (var client = await SseClient.OpenAsync("/v1/events/stream", readKey))
        {
            await StoredEvent.InsertAsync([newer]);
            lastSeen = await client.NextAsync(TimeSpan.FromSeconds(5));
        }
        Assert.That(lastSeen.Id, Is.EqualTo(newer.Id));
        await tx.CommitAsync(); // while the client is away

        await using var again = await SseClient.OpenAsync("/v1/events/stream", readKey, lastEventId: lastSeen.LastEventId);
        Assert.That((await again.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(late.Id), "the lower id it could not have seen");
        var after = StoredEvent.Track(source, "After", "u1", DateTime.UtcNow);
        await StoredEvent.InsertAsync([after]);
        Assert.That((await again.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(after.Id), "and not the newer row again");
    }

    const string InsertLate = """
        insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at)
        values (@SourceId, @MessageId, 'track', 'Late', 'u1', now(), now()) returning id
        """;

    /// <summary>A track event "Late" inserted in <paramref name="tx"/>, left open: its id is taken now, its row is seen only once it commits.</summary>
    static async Task<StoredEvent> InsertLateAsync(NpgsqlTransaction tx, string source)
    {
        var late = StoredEvent.Track(source, "Late", "u1", DateTime.UtcNow);
        late.Id = await tx.Connection!.ExecuteScalarAsync<long>(InsertLate, new { late.SourceId, late.MessageId }, tx);
        return late;
    }
}
