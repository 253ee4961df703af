using System.Diagnostics;
using System.Net;
using Dapper;

namespace Ingest.Tests.Integration.Api;

/// <summary>Stops the stack's real RabbitMQ or PostgreSQL under a running API, and starts it again in any case.</summary>
public sealed class When_a_server_is_down : ApiTest
{
    protected override Dictionary<string, string?> Settings => new() { ["Ingest:Publish:ConfirmTimeout"] = "00:00:02" };

    [OneTimeTearDown]
    public async Task Stop()
    {
        await TestStack.StackAsync("start-rabbitmq");
        await TestStack.StackAsync("start-postgres");
    }

    [Test]
    public async Task Without_the_broker_the_API_answers_503_in_time_and_recovers_without_a_restart()
    {
        await TestStack.StackAsync("stop-rabbitmq");
        try
        {
            var clock = Stopwatch.StartNew();
            using var down = await Client.SendAsync(ApiHost.Track(WriteKey, new { userId = "u1", @event = "While down" }));
            var waited = clock.Elapsed;

            Assert.That(down.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), await down.Content.ReadAsStringAsync());
            Assert.That(down.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero));
            Assert.That(waited, Is.LessThan(TimeSpan.FromSeconds(2 + 3)), "the confirm timeout is 2 s; no hang past it");
            await Eventually.HoldsAsync(async t =>
            {
                using var ready = await Client.GetAsync("/health/ready", t);
                return ready.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, TimeSpan.FromSeconds(10), () => "/health/ready to report the broker down");
        }
        finally
        {
            await TestStack.StackAsync("start-rabbitmq");
        }

        var messageId = Guid.NewGuid().ToString();
        await Eventually.HoldsAsync(async t =>
        {
            using var response = await Client.SendAsync(ApiHost.Track(WriteKey, new { userId = "u1", @event = "After", messageId }), t);
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(60), () => "a 200 once the broker is back");
        var events = await Api.EventsOnQueueAsync(1);
        Assert.That(events.Select(e => e.GetProperty("messageId").GetString()), Does.Contain(messageId));
    }

    [Test]
    public async Task Without_the_database_ingestion_answers_200_and_the_events_wait_on_the_broker()
    {
        await Api.DrainAsync();
        await TestStack.StackAsync("stop-postgres");
        try
        {
            var ids = new List<string>();
            for (var i = 0; i < 50; i++)
            {
                var messageId = Guid.NewGuid().ToString();
                ids.Add(messageId);
                using var response = await Client.SendAsync(ApiHost.Track(WriteKey, new { userId = "u1", @event = "DB down", messageId }));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
            }
            var events = await Api.EventsOnQueueAsync(50);
            Assert.That(events.Select(e => e.GetProperty("messageId").GetString()), Is.EquivalentTo(ids));
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
        }
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<long>("select count(*) from events where event = 'DB down'"), Is.Zero,
            "the API wrote nothing to PostgreSQL: only the worker stores events");
    }

    [Test]
    public async Task An_API_started_while_the_database_is_down_serves_the_keys_it_saved_before()
    {
        var snapshot = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.json");
        var settings = new Dictionary<string, string?> { ["Ingest:Keys:SnapshotPath"] = snapshot };
        using (var first = new ApiHost(settings))
            (await first.StartAsync(WriteKey)).Dispose();

        await TestStack.StackAsync("stop-postgres");
        try
        {
            using var second = new ApiHost(settings);
            using var client = await second.StartAsync(WriteKey);
            using var response = await client.SendAsync(ApiHost.Track(WriteKey, new { userId = "u1", @event = "Cold start" }));

            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await second.EventsOnQueueAsync(1), Has.Count.EqualTo(1));
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
            File.Delete(snapshot);
        }
    }
}
