using Ingest.Tests.Integration.Queries;

namespace Ingest.Tests.Integration.Privacy;

/// <summary>
/// A subject's events are stored, and more wait in RabbitMQ (no worker consumes the API's queue), mixed in the same
/// broker messages with another user's. A deletion runs; then a worker drains the queue.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_a_subject_is_deleted_while_its_events_wait_in_the_broker : PrivacyTest
{
    [Test]
    public async Task None_of_its_events_is_stored_and_every_other_one_is()
    {
        var stored = Enumerable.Range(0, 5).Select(i => StoredEvent.Track(Stack.SourceId, "Stored", "d-user", DateTime.UtcNow))
            .Append(StoredEvent.Track(Stack.SourceId, "Stored anonymous", null, DateTime.UtcNow, anonymousId: "d-anon"))
            .Append(StoredEvent.Track(Stack.SourceId, "Kept", "keep-user", DateTime.UtcNow)).ToList();
        await StoredEvent.InsertAsync(stored);

        for (var i = 0; i < 3; i++)
        {
            using var response = await Stack.SendAsync("/v1/batch", new { batch = new object[]
            {
                new { type = "track", userId = "d-user", @event = $"Waiting {i}" },
                new { type = "track", anonymousId = "d-anon", @event = $"Waiting anonymous {i}" },
                new { type = "track", userId = "keep-user", @event = $"Waiting kept {i}" },
            } });
            Assert.That((int)response.StatusCode, Is.EqualTo(200));
        }
        Assert.That(await Stack.StoredAsync(userId: "d-user"), Is.EqualTo(5));

        var id = await Stack.RequestAsync("delete", new { userId = "d-user" }, new { anonymousId = "d-anon" });
        var receipt = await Stack.DoneAsync(id);
        Assert.That(receipt.GetProperty("removed").GetProperty("events").GetInt64(), Is.EqualTo(6), $"the five stored and the anonymous one: {receipt}");

        await Stack.StartDrainingWorkerAsync();
        await Eventually.HoldsAsync(async _ => await Stack.StoredAsync(userId: "keep-user") == 4, TimeSpan.FromSeconds(30), () => $"the other user's waiting events stored ({Stack.StoredAsync(userId: "keep-user").Result} of 4)\n{Stack.DrainerOutput}");
        Assert.That(await Stack.StoredAsync(userId: "d-user"), Is.Zero, "none of the deleted user's, waiting or stored");
        Assert.That(await Stack.StoredAsync(anonymousId: "d-anon"), Is.Zero, "none of the deleted anonymous id's");
        Assert.That(await Stack.StoredAsync(), Is.EqualTo(4), "every other event, once");
        var subject = await Stack.SubjectAsync("userId", "d-user");
        Assert.That(subject.GetProperty("events").GetInt64(), Is.Zero);
        Assert.That(subject.GetProperty("quarantinedEvents").GetInt64(), Is.Zero);

        using var after = await Stack.SendAsync("/v1/track", new { userId = "d-user", @event = "After the deletion" });
        await Eventually.HoldsAsync(async _ => await Stack.StoredAsync(userId: "d-user") == 1, TimeSpan.FromSeconds(30),
            () => "an event received after the deletion is stored: a deletion is not a suppression");
    }
}
