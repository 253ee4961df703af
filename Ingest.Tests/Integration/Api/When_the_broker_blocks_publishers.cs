using System.Diagnostics;
using System.Net;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// RabbitMQ's memory alarm: the broker stays up but confirms nothing, so accepted requests wait in the API. What waits
/// is bounded in bytes, and a request whose answer has gone (its client left) is never published afterwards.
/// </summary>
public sealed class When_the_broker_blocks_publishers : ApiTest
{
    protected override Dictionary<string, string?> Settings => new()
    {
        ["Ingest:Publish:MaxPendingBytes"] = (1024 * 1024).ToString(),
        ["Ingest:Publish:MaxInFlightMessages"] = "1",
        ["Ingest:Publish:ConfirmTimeout"] = "00:00:20",
    };

    [OneTimeTearDown]
    public Task Stop() => TestStack.StackAsync("unblock-rabbitmq");

    /// <summary>About 360 KB as the API holds it: 200 messages of 1.5 KB.</summary>
    HttpRequestMessage LargeBatch(string name) => ApiHost.Post("/v1/batch", new
    {
        batch = Enumerable.Range(0, 200).Select(i => new { type = "track", userId = "u", @event = name, messageId = $"{name}-{i}-{Guid.NewGuid()}", properties = new { pad = new string('p', 1500) } }),
    }, WriteKey);

    [Test]
    public async Task Requests_past_the_pending_bytes_get_503_at_once_and_the_others_200_once_it_confirms()
    {
        await TestStack.StackAsync("block-rabbitmq");
        try
        {
            var first = Client.SendAsync(LargeBatch("First"));
            var second = Client.SendAsync(LargeBatch("Second"));
            await Task.Delay(500);

            var clock = Stopwatch.StartNew();
            using var third = await Client.SendAsync(LargeBatch("Third"));
            clock.Stop();

            Assert.That(third.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(await third.Content.ReadAsStringAsync(), Does.Contain("too many bytes"));
            Assert.That(third.Headers.RetryAfter, Is.Not.Null);
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "refused at once, not after the confirm timeout");
            Assert.That(first.IsCompleted || second.IsCompleted, Is.False, "the first two still wait for the broker");

            await TestStack.StackAsync("unblock-rabbitmq");
            using var firstAnswer = await first;
            using var secondAnswer = await second;
            Assert.That((firstAnswer.StatusCode, secondAnswer.StatusCode), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.OK)));
            var queued = await Api.EventsOnQueueAsync(400);
            Assert.That(queued.Select(e => e.GetProperty("event").GetString()).Distinct(), Is.EquivalentTo(new[] { "First", "Second" }));
        }
        finally
        {
            await TestStack.StackAsync("unblock-rabbitmq");
        }
    }

    [Test]
    public async Task A_request_whose_client_has_gone_is_not_published_later()
    {
        await TestStack.StackAsync("block-rabbitmq");
        try
        {
            var first = Client.SendAsync(ApiHost.Track(WriteKey, new { userId = "u", @event = "Waited", messageId = Guid.NewGuid().ToString() }));
            await Task.Delay(300);
            using (var gone = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
                Assert.That(async () => await Client.SendAsync(ApiHost.Track(WriteKey, new { userId = "u", @event = "Gone", messageId = Guid.NewGuid().ToString() }), gone.Token),
                    Throws.InstanceOf<OperationCanceledException>());

            await TestStack.StackAsync("unblock-rabbitmq");
            using var answer = await first;
            Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            var queued = await Api.EventsOnQueueAsync(2, within: TimeSpan.FromSeconds(5));
            Assert.That(queued.Select(e => e.GetProperty("event").GetString()), Is.EqualTo(new[] { "Waited" }), "the request whose client left was dropped before it was sent");
        }
        finally
        {
            await TestStack.StackAsync("unblock-rabbitmq");
        }
    }
}
