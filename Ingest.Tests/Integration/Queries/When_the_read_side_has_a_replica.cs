using System.Net;
using Ingest.Database.Migrations;
using Ingest.Tests.Integration.Api;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// ConnectionStrings:PostgresRead points the read endpoints at another database (a stand-in for a replica, which
/// this machine cannot run): the events, the message lookup and the statistics come from it, while the keys are
/// still loaded from the primary (ConnectionStrings:Postgres). Without it, the read side reads the primary.
/// </summary>
public sealed class When_the_read_side_has_a_replica
{
    string _replicaName = null!;
    NpgsqlDataSource _replica = null!;
    ApiHost _api = null!;
    HttpClient _client = null!;
    string _source = null!;
    string _readKey = null!;
    StoredEvent _onPrimary = null!;
    StoredEvent _onReplica = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _replicaName = $"ingest_replica_{Guid.NewGuid():N}"[..26];
        await TestStack.CreateDatabaseAsync(_replicaName);
        _replica = NpgsqlDataSource.Create(TestStack.ConnectionStringFor(_replicaName));
        await new Migrator(_replica, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);

        // The source and its keys exist on the primary only.
        (_source, var writeKey, _readKey) = await TestSources.CreateAsync();
        var at = DateTime.UtcNow.AddMinutes(-5);
        _onPrimary = StoredEvent.Track(_source, "On Primary", "u1", at);
        _onReplica = StoredEvent.Track(_source, "On Replica", "u1", at);
        await StoredEvent.InsertAsync([_onPrimary]);
        await StoredEvent.InsertAsync([_onReplica], _replica);

        _api = new ApiHost(new() { ["ConnectionStrings:PostgresRead"] = TestStack.ConnectionStringFor(_replicaName) });
        _client = await _api.StartAsync(writeKey);
        await ReadSide.ReadKeyLoadedAsync(_client, _readKey);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _api.Dispose();
        await _replica.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await TestStack.DropDatabaseAsync(_replicaName);
    }

    [Test]
    public async Task The_events_list_shows_the_replica_s_rows()
    {
        var page = await ReadSide.GetJsonAsync("/v1/events?limit=100", _readKey, _client);

        var ids = page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("messageId").GetString()).ToList();
        Assert.That(ids, Is.EqualTo(new[] { _onReplica.MessageId }));
    }

    [Test]
    public async Task A_message_is_looked_up_on_the_replica()
    {
        using var onReplica = await _client.SendAsync(ReadSide.Get($"/v1/events/{_onReplica.MessageId}", _readKey));
        using var onPrimary = await _client.SendAsync(ReadSide.Get($"/v1/events/{_onPrimary.MessageId}", _readKey));

        Assert.That(onReplica.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(onPrimary.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the event stored on the primary only is not on the replica yet");
    }

    [Test]
    public async Task The_statistics_count_the_replica_s_rows()
    {
        var stats = await ReadSide.GetJsonAsync("/v1/stats/events?interval=hour", _readKey, _client);

        var counted = stats.GetProperty("counts").EnumerateArray().Select(c => c.GetProperty("event").GetString()).ToList();
        Assert.That(counted, Is.EqualTo(new[] { "On Replica" }));
    }

    [Test]
    public async Task Without_PostgresRead_the_read_side_reads_the_primary()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        var stored = StoredEvent.Track(source, "On Primary", "u1", DateTime.UtcNow.AddMinutes(-1));
        await StoredEvent.InsertAsync([stored]);

        var page = await ReadSide.GetJsonAsync("/v1/events?limit=10", readKey);

        Assert.That(page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("messageId").GetString()), Is.EqualTo(new[] { stored.MessageId }));
    }
}
