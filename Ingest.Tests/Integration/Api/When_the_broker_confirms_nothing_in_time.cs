using System.Net;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// RabbitMQ's memory alarm with a short confirm timeout: every request answers 503 when its own timeout is up, whether
/// its events were sent and await their confirm or still wait for a broker message, and the events of a request that
/// answered before they left are never sent.
/// </summary>
public sealed class When_the_broker_confirms_nothing_in_time : ApiTest
{
    static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(1);

    protected override Dictionary<string, string?> Settings => new()
    {
        ["Ingest:Publish:MaxInFlightMessages"] = "1",
        ["Ingest:Publish:ConfirmTimeout"] = ConfirmTimeout.ToString(),
    };

    [OneTimeTearDown]
    public Task Stop() => TestStack.StackAsync("unblock-rabbitmq");

    HttpRequestMessage Track(string name) => ApiHost.Track(WriteKey, new { userId = "u", @event = name, messageId = Guid.NewGuid().ToString() });

    // Timed on the clock the API's timeout runs on: .NET's timers fire by Environment.TickCount64, which on Linux is the
    // coarse monotonic clock (a few ms a tick), so by a Stopwatch a 1 s timeout can fire after 998 ms. On its own clock
    // it never fires early, and it starts after this request was sent.
    async Task<(HttpStatusCode Status, string Body, TimeSpan Waited)> SendTimedAsync(string name)
    {
        var sentAt = Environment.TickCount64;
        using var answer = await Client.SendAsync(Track(name));
        var waited = TimeSpan.FromMilliseconds(Environment.TickCount64 - sentAt);
        return (answer.StatusCode, await answer.Content.ReadAsStringAsync(), waited);
    }

    [Test]
    public async Task Each_request_answers_503_when_its_own_timeout_is_up_and_the_unsent_never_leave()
    {
        await TestStack.StackAsync("block-rabbitmq");
        try
        {
            // The first request's message takes the only slot; the next two wait for one, 400 ms apart.
            var sent = SendTimedAsync("Sent");
            await Task.Delay(400);
            var waiting = SendTimedAsync("Waiting");
            await Task.Delay(400);
            var later = SendTimedAsync("Later");

            foreach (var (status, body, waited) in await Task.WhenAll(sent, waiting, later))
            {
                Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), body);
                Assert.That(body, Does.Contain("did not confirm"));
                Assert.That(waited, Is.GreaterThanOrEqualTo(ConfirmTimeout), "not answered before its timeout");
                Assert.That(waited, Is.LessThan(ConfirmTimeout + TimeSpan.FromSeconds(1.5)), "answered when its own timeout is up, not with an earlier request's");
            }

            await TestStack.StackAsync("unblock-rabbitmq");
            var after = await SendTimedAsync("After");
            Assert.That(after.Status, Is.EqualTo(HttpStatusCode.OK), after.Body);
            var queued = await Api.EventsOnQueueAsync(4, within: TimeSpan.FromSeconds(5));
            var names = queued.Select(e => e.GetProperty("event").GetString()).ToList();
            Assert.That(names, Does.Contain("After"));
            Assert.That(names, Has.None.EqualTo("Waiting").And.None.EqualTo("Later"), "answered 503 before they left, so never sent");
        }
        finally
        {
            await TestStack.StackAsync("unblock-rabbitmq");
        }
    }
}
