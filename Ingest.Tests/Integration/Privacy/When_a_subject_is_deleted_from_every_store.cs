using System.Text;
using System.Text.Json;
using Dapper;
using Ingest.Contracts;
using Ingest.Tests.Integration.Queries;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Privacy;

/// <summary>
/// A subject's events lie in three monthly partitions of events, in the quarantine and in dead letters (alone in one,
/// beside another user's in another); a deletion removes every one of them and nothing else, and its receipt counts
/// what it removed from each place.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_a_subject_is_deleted_from_every_store : PrivacyTest
{
    protected override bool OneQueue => true;

    [Test]
    public async Task All_of_them_are_gone_and_every_other_row_and_message_is_intact()
    {
        var months = new[] { 2, 1, 0 }.Select(m => DateTime.UtcNow.AddMonths(-m)).ToArray();
        await using (var conn = await TestStack.Database.OpenConnectionAsync())
            await conn.ExecuteAsync("select create_event_partitions('month', 1, @Since)", new { Since = months[0].AddDays(-1) });
        foreach (var at in months)
            for (var i = 0; i < 3; i++)
            {
                await InsertStoredAtAsync(Stack.SourceId, "x-user", null, at);
                await InsertStoredAtAsync(Stack.SourceId, null, "x-anon", at);
                await InsertStoredAtAsync(Stack.SourceId, "other-user", "x-anon-not", at);
            }
        Assert.That(await PartitionsHoldingAsync(Stack.SourceId, "x-user"), Is.EqualTo(3), "the subject's events lie in three partitions");

        await QuarantinedRow.InsertAsync(Stack.SourceId, QuarantinedRow.Event(Stack.SourceId, userId: "x-user"), "refused (SQLSTATE 22P05)");
        await QuarantinedRow.InsertAsync(Stack.SourceId, QuarantinedRow.Event(Stack.SourceId, userId: "x-user"), "refused (SQLSTATE 22P05)");
        await QuarantinedRow.InsertAsync(Stack.SourceId, QuarantinedRow.Event(Stack.SourceId, userId: "other-user"), "refused (SQLSTATE 22P05)");

        var errorQueue = $"{Stack.PrivacyQueue}_error";
        await PutDeadLetterAsync(errorQueue, Envelope(Event(Stack.SourceId, "x-user", null), Event(Stack.SourceId, "x-user", null)));
        await PutDeadLetterAsync(errorQueue, Envelope(Event(Stack.SourceId, "x-user", null), Event(Stack.SourceId, "other-user", null), Event(Stack.SourceId, null, "x-anon")));
        await PutDeadLetterAsync(errorQueue, Envelope(Event(Stack.SourceId, "other-user", null)));
        await PutDeadLetterAsync(errorQueue, Envelope(Event("another-source", "x-user", null)));
        await PutDeadLetterAsync(errorQueue, Encoding.UTF8.GetBytes("not json at all x-user"));

        var before = await Stack.SubjectAsync("userId", "x-user");
        Assert.That(before.GetProperty("events").GetInt64(), Is.EqualTo(9));
        Assert.That(before.GetProperty("quarantinedEvents").GetInt64(), Is.EqualTo(2));
        Assert.That(before.GetProperty("deadLetters").GetInt64(), Is.EqualTo(3));

        var id = await Stack.RequestAsync("delete", new { userId = "x-user" }, new { anonymousId = "x-anon" });
        var removed = (await Stack.DoneAsync(id)).GetProperty("removed");
        Assert.That(removed.GetProperty("events").GetInt64(), Is.EqualTo(18), "nine of x-user and nine of x-anon, from three partitions");
        Assert.That(removed.GetProperty("quarantinedEvents").GetInt64(), Is.EqualTo(2));
        Assert.That(removed.GetProperty("deadLetters").GetInt64(), Is.EqualTo(4), "dead-lettered events: three of x-user, one of x-anon");

        var after = await Stack.SubjectAsync("userId", "x-user");
        Assert.That((after.GetProperty("events").GetInt64(), after.GetProperty("quarantinedEvents").GetInt64(), after.GetProperty("deadLetters").GetInt64()), Is.EqualTo((0L, 0L, 0L)));
        Assert.That((await Stack.SubjectAsync("anonymousId", "x-anon")).GetProperty("events").GetInt64(), Is.Zero);
        Assert.That(await Stack.StoredAsync(userId: "other-user"), Is.EqualTo(9), "the other user's nine events, in their partitions");
        Assert.That((await Stack.SubjectAsync("userId", "other-user")).GetProperty("quarantinedEvents").GetInt64(), Is.EqualTo(1));

        var letters = (await EventSender.TakeAllAsync(errorQueue, CancellationToken.None)).Select(b => Encoding.UTF8.GetString(b)).ToList();
        Assert.That(letters, Has.Count.EqualTo(4), "the letter of x-user alone dropped; the other four kept");
        Assert.That(letters.Count(l => l.Contains("other-user", StringComparison.Ordinal)), Is.EqualTo(2), "both of the other user's events kept");
        Assert.That(letters.Count(l => l.Contains("another-source", StringComparison.Ordinal)), Is.EqualTo(1), "another source's event of the same id kept");
        Assert.That(letters, Has.One.EqualTo("not json at all x-user"), "a body that is not JSON is left as it was");
        Assert.That(letters.Where(l => !l.Contains("another-source", StringComparison.Ordinal) && l.StartsWith('{')),
            Has.None.Contains("\"x-user\"").And.None.Contains("\"x-anon\""), "no event of the subjects is left in this source's dead letters");
    }

    static AnalyticsEvent Event(string sourceId, string? userId, string? anonymousId) => new()
    {
        SourceId = sourceId, MessageId = Guid.NewGuid().ToString(), Type = "track", Event = "Dead", UserId = userId, AnonymousId = anonymousId,
        Timestamp = DateTimeOffset.UtcNow, ReceivedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>A MassTransit envelope as the API sends it, with a null where the contract has none, as a dead letter has.</summary>
    static byte[] Envelope(params AnalyticsEvent[] events) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        messageId = Guid.NewGuid(),
        messageType = new[] { "urn:message:Ingest.Contracts:EventBatch" },
        message = new { batchId = (Guid?)null, publishedAt = DateTimeOffset.UtcNow, events },
    }, JsonSerializerOptions.Web);

    static async Task PutDeadLetterAsync(string errorQueue, byte[] body)
    {
        await using var connection = await Api.ApiHost.Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new RabbitMQ.Client.CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync(errorQueue, durable: true, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", errorQueue, mandatory: true, new RabbitMQ.Client.BasicProperties { Persistent = true, ContentType = "application/vnd.masstransit+json", MessageId = Guid.NewGuid().ToString() }, body);
    }

    static async Task InsertStoredAtAsync(string sourceId, string? userId, string? anonymousId, DateTime storedAt)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            insert into events (source_id, message_id, type, event, user_id, anonymous_id, "timestamp", received_at, stored_at)
            values (@SourceId, gen_random_uuid()::text, 'track', 'Old', @UserId, @AnonymousId, @StoredAt, @StoredAt, @StoredAt)
            """, new { SourceId = sourceId, UserId = userId, AnonymousId = anonymousId, StoredAt = storedAt });
    }

    static async Task<long> PartitionsHoldingAsync(string sourceId, string userId)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select count(distinct tableoid) from events where source_id = @SourceId and user_id = @UserId", new { SourceId = sourceId, UserId = userId });
    }
}
