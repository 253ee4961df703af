using System.Net;
using System.Text.Json;
using Dapper;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// GET /v1/pipeline and GET /v1/source, which the dashboard shows. The read side's API has no worker on its queue, so
/// the worker is down there; stopping PostgreSQL or RabbitMQ turns that part down, in a 200 that says why.
/// </summary>
public sealed class When_the_pipeline_health_is_asked
{
    string _sourceId = null!;
    string _writeKey = null!;
    string _readKey = null!;

    [OneTimeSetUp]
    public async Task NewSource() => (_sourceId, _writeKey, _readKey) = await ReadSide.CreateSourceAsync();

    /// <summary>The health once <paramref name="holds"/> is true of it (answers are reused for two seconds).</summary>
    async Task<JsonElement> PipelineAsync(Func<JsonElement, bool> holds, string what)
    {
        JsonElement last = default;
        await Eventually.HoldsAsync(async t =>
        {
            using var response = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/pipeline", _readKey), t);
            var body = await response.Content.ReadAsStringAsync(t);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
            last = JsonDocument.Parse(body).RootElement.Clone();
            return holds(last);
        }, TimeSpan.FromSeconds(20), () => $"{what}: {last}");
        return last;
    }

    static string Status(JsonElement health, string part) => health.GetProperty(part).GetProperty("status").GetString()!;

    [Test]
    public async Task With_no_worker_on_the_queue_the_worker_is_down_and_the_waiting_messages_are_counted()
    {
        await ReadSide.Api.DrainAsync();
        for (var i = 0; i < 3; i++)
        {
            using var sent = await ReadSide.Client.SendAsync(ApiHost.Track(_writeKey, new { userId = $"u{i}", @event = "Waiting" }));
            Assert.That(sent.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var health = await PipelineAsync(h => h.GetProperty("broker").GetProperty("messages").GetInt64() == 3, "three messages waiting");

        Assert.Multiple(() =>
        {
            Assert.That(Status(health, "api"), Is.EqualTo("up"));
            Assert.That(Status(health, "broker"), Is.EqualTo("up"));
            Assert.That(health.GetProperty("broker").GetProperty("queue").GetString(), Is.EqualTo(ReadSide.Api.Queue));
            Assert.That(health.GetProperty("broker").GetProperty("consumers").GetInt64(), Is.Zero);
            Assert.That(Status(health, "worker"), Is.EqualTo("down"));
            Assert.That(health.GetProperty("worker").GetProperty("detail").GetString(), Is.EqualTo($"no worker consumes {ReadSide.Api.Queue}; 3 message(s) wait there"));
            Assert.That(Status(health, "database"), Is.EqualTo("up"));
        });
        await ReadSide.Api.DrainAsync();
    }

    [Test]
    public async Task With_the_database_stopped_it_is_down_with_the_reason_in_a_200()
    {
        await TestStack.StackAsync("stop-postgres");
        try
        {
            var health = await PipelineAsync(h => Status(h, "database") == "down", "the database down");
            Assert.That(health.GetProperty("database").GetProperty("detail").GetString(), Is.Not.Empty);
            Assert.That(Status(health, "api"), Is.EqualTo("up"));
            Assert.That(Status(health, "broker"), Is.EqualTo("up"), "the other parts are still asked");
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
        }
        await PipelineAsync(h => Status(h, "database") == "up", "the database up again");
    }

    [Test]
    public async Task With_the_broker_stopped_it_is_down_and_the_worker_unknown()
    {
        await TestStack.StackAsync("stop-rabbitmq");
        try
        {
            var health = await PipelineAsync(h => Status(h, "broker") == "down", "the broker down");
            Assert.That(Status(health, "worker"), Is.EqualTo("unknown"));
            Assert.That(Status(health, "database"), Is.EqualTo("up"));
        }
        finally
        {
            await TestStack.StackAsync("start-rabbitmq");
        }
        await PipelineAsync(h => Status(h, "broker") == "up", "the broker up again");
    }

    [Test]
    public async Task The_source_is_named_for_its_read_key()
    {
        await using (var conn = await TestStack.Database.OpenConnectionAsync())
            await conn.ExecuteAsync("update sources set name = 'Web shop' where id = @Id", new { Id = _sourceId });
        using var response = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/source", _readKey));
        var source = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(source.GetProperty("id").GetString(), Is.EqualTo(_sourceId));
        Assert.That(source.GetProperty("name").GetString(), Is.EqualTo("Web shop"));
    }
}
