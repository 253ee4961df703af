using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using Ingest.Contracts;

namespace Ingest.Tests.Integration.Queries;

/// <summary>An event the worker quarantined (its row written here as the worker writes it), listed and replayed through the broker.</summary>
public sealed class When_a_quarantined_event_is_replayed
{
    string _source = null!;
    string _readKey = null!;

    [SetUp]
    public async Task NewSource() => (_source, _, _readKey) = await ReadSide.CreateSourceAsync();

    async Task<(long Id, AnalyticsEvent Event)> QuarantineAsync(string reason, string? sourceInRaw = null)
    {
        var evt = QuarantinedRow.Event(sourceInRaw ?? _source);
        return (await QuarantinedRow.InsertAsync(_source, evt, reason), evt);
    }

    static HttpRequestMessage Replay(long id, string readKey) =>
        new(HttpMethod.Post, $"/v1/quarantine/{id}/replay") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", readKey) } };

    [Test]
    public async Task It_is_listed_with_its_reason()
    {
        var (id, evt) = await QuarantineAsync("value out of range: 1e400");
        var page = await ReadSide.GetJsonAsync("/v1/quarantine", _readKey);
        var row = page.GetProperty("quarantined").EnumerateArray().Single();
        Assert.Multiple(() =>
        {
            Assert.That(row.GetProperty("id").GetInt64(), Is.EqualTo(id));
            Assert.That(row.GetProperty("messageId").GetString(), Is.EqualTo(evt.MessageId));
            Assert.That(row.GetProperty("reason").GetString(), Is.EqualTo("value out of range: 1e400"));
            Assert.That(row.GetProperty("replayedAt").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public async Task Replayed_twice_at_once_it_is_published_exactly_once()
    {
        var (id, evt) = await QuarantineAsync("invalid byte sequence for encoding \"UTF8\": 0x00", sourceInRaw: "some-other-source");
        await ReadSide.Api.DrainAsync();

        var answers = await Task.WhenAll(ReplayAsync(), ReplayAsync());
        async Task<JsonElement> ReplayAsync()
        {
            using var response = await ReadSide.Client.SendAsync(Replay(id, _readKey));
            var body = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
            return JsonDocument.Parse(body).RootElement.Clone();
        }
        Assert.That(answers.Select(a => a.GetProperty("replayed").GetBoolean()), Is.EquivalentTo(new[] { true, false }), "one replays, the other says it was done");

        using var third = await ReadSide.Client.SendAsync(Replay(id, _readKey));
        var thirdBody = await third.Content.ReadAsStringAsync();
        Assert.That(thirdBody, Does.Contain("\"replayed\":false").And.Contain("Already replayed"));

        var onQueue = await ReadSide.Api.EventsOnQueueAsync(2, TimeSpan.FromSeconds(3));
        Assert.That(onQueue, Has.Count.EqualTo(1), "published once");
        Assert.Multiple(() =>
        {
            Assert.That(onQueue[0].GetProperty("messageId").GetString(), Is.EqualTo(evt.MessageId));
            Assert.That(onQueue[0].GetProperty("sourceId").GetString(), Is.EqualTo(_source), "the source is the key's");
            Assert.That(onQueue[0].GetProperty("properties").GetProperty("plan").GetString(), Is.EqualTo("pro"));
        });

        var listed = await ReadSide.GetJsonAsync("/v1/quarantine?replayed=true", _readKey);
        Assert.That(listed.GetProperty("quarantined")[0].GetProperty("replayedAt").GetDateTime(), Is.Not.EqualTo(default(DateTime)));
    }

    [Test]
    public async Task Another_source_cannot_replay_it()
    {
        var (id, _) = await QuarantineAsync("anything");
        var (_, _, otherKey) = await ReadSide.CreateSourceAsync();
        using var response = await ReadSide.Client.SendAsync(Replay(id, otherKey));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<DateTime?>("select replayed_at from quarantined_events where id = @id", new { id }), Is.Null);
    }
}
