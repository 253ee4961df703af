using System.Diagnostics;
using Dapper;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>Live-tail clients on GET /v1/events/stream while events are stored (straight into the table, as the worker does).</summary>
public sealed class When_tailing_stored_events
{
    string _source = null!;
    string _readKey = null!;

    [SetUp]
    public async Task NewSource() => (_source, _, _readKey) = await ReadSide.CreateSourceAsync();

    StoredEvent NewEvent(string name = "Tailed") => StoredEvent.Track(_source, name, "u1", DateTime.UtcNow);

    [Test]
    public async Task A_client_receives_a_stored_event_within_one_second()
    {
        await using var client = await SseClient.OpenAsync("/v1/events/stream", _readKey);
        var stored = NewEvent();
        var clock = Stopwatch.StartNew();
        await StoredEvent.InsertAsync([stored]);
        var received = await client.NextAsync(TimeSpan.FromSeconds(5));
        var elapsed = clock.Elapsed;
        Assert.That(received.Id, Is.EqualTo(stored.Id));
        Assert.That(received.Data.GetProperty("messageId").GetString(), Is.EqualTo(stored.MessageId));
        Assert.That(received.Type, Is.EqualTo("track"));
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "received after the commit");
    }

    [Test]
    public async Task Only_events_of_the_asked_name_and_source_are_streamed()
    {
        await using var client = await SseClient.OpenAsync("/v1/events/stream?event=Wanted", _readKey);
        var (other, _, _) = await TestSources.CreateAsync();
        await StoredEvent.InsertAsync([NewEvent("Unwanted"), StoredEvent.Track(other, "Wanted", "u1", DateTime.UtcNow)]);
        var wanted = NewEvent("Wanted");
        await StoredEvent.InsertAsync([wanted]);
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(wanted.Id));
    }

    [Test]
    public async Task A_client_reconnecting_with_Last_Event_ID_receives_what_it_missed_and_nothing_twice()
    {
        var first = NewEvent();
        SseClient.Message lastSeen;
        await using (var client = await SseClient.OpenAsync("/v1/events/stream", _readKey))
        {
            await StoredEvent.InsertAsync([first]);
            lastSeen = await client.NextAsync(TimeSpan.FromSeconds(5));
        }
        Assert.That(lastSeen.Id, Is.EqualTo(first.Id));
        var missed = new List<StoredEvent> { NewEvent(), NewEvent(), NewEvent() };
        await StoredEvent.InsertAsync(missed);

        await using var again = await SseClient.OpenAsync("/v1/events/stream", _readKey, lastEventId: lastSeen.LastEventId);
        var received = new List<long>();
        for (var i = 0; i < missed.Count; i++) received.Add((await again.NextAsync(TimeSpan.FromSeconds(5))).Id);
        var next = NewEvent();
        await StoredEvent.InsertAsync([next]);
        received.Add((await again.NextAsync(TimeSpan.FromSeconds(5))).Id);
        Assert.That(received, Is.EqualTo(missed.Select(e => e.Id).Order().Append(next.Id)));
    }

    [Test]
    public async Task An_event_whose_lower_id_commits_after_a_higher_one_is_still_delivered_once()
    {
        await using var client = await SseClient.OpenAsync("/v1/events/stream", _readKey);
        await using var slow = await TestStack.Database.OpenConnectionAsync();
        await using var tx = await slow.BeginTransactionAsync();
        var late = NewEvent("Late");
        late.Id = await slow.ExecuteScalarAsync<long>("""
            insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at)
            values (@SourceId, @MessageId, 'track', 'Late', 'u1', now(), now()) returning id
            """, new { late.SourceId, late.MessageId }, tx);
        var early = NewEvent("Early");
        await StoredEvent.InsertAsync([early]);
        Assert.That(early.Id, Is.GreaterThan(late.Id));
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(early.Id));

        await tx.CommitAsync();
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(late.Id), "the lower id, visible later, is sent too");
        var after = NewEvent();
        await StoredEvent.InsertAsync([after]);
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(after.Id), "and nothing twice before the next event");
    }
}
