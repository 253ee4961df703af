using Ingest.Database.Keys;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;
using Npgsql;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// A client tails its source while the database's sessions lose the events table (search_path set to a schema without
/// it, every session ended, as a restart with a bad setting does); a DBA resets the setting without ending a session.
/// The API's pooled sessions were opened under the fault: the live tail must read again on new ones, from where it was.
/// </summary>
public sealed class When_a_fault_in_the_tail_s_sessions_is_fixed : OwnDatabaseTest
{
    [Test, CancelAfter(120_000)]
    public async Task The_client_receives_every_row_stored_during_and_after_the_fault_once(CancellationToken ct)
    {
        // The test's own writes name their schema, so that only the API's sessions meet the fault.
        await using var writer = NpgsqlDataSource.Create(Db.ConnectionString + ";Search Path=public;Pooling=false");
        var source = $"tail-{Guid.NewGuid():N}"[..20];
        await KeyRecords.AddSourceAsync(writer, source, source, [], ct);
        var readKey = await KeyRecords.CreateKeyAsync(writer, source, "read", ct);
        using var api = new ApiHost(new() { ["ConnectionStrings:Postgres"] = Db.ConnectionString, ["Ingest:Queries:StreamPollInterval"] = "00:00:00.500" });
        var http = api.CreateClient();
        await ReadSide.ReadKeyLoadedAsync(http, readKey);
        await using var client = await SseClient.OpenAsync("/v1/events/stream", readKey, api: http);

        var before = StoredEvent.Track(source, "Before", "u1", DateTime.UtcNow);
        await StoredEvent.InsertAsync([before], writer);
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(15))).Id, Is.EqualTo(before.Id), "tailing before the fault");

        await OwnDatabase.ExecuteOnServerAsync($"create schema if not exists nothing_here; alter database {Db.Name} set search_path = nothing_here");
        await Db.TerminateConnectionsAsync();
        var during = Enumerable.Range(0, 3).Select(i => StoredEvent.Track(source, $"During {i}", "u1", DateTime.UtcNow)).ToList();
        foreach (var e in during)
        {
            await StoredEvent.InsertAsync([e], writer);
            await Task.Delay(700, ct); // rows arriving while the tail's reads fail, not a wait for a condition
        }
        await OwnDatabase.ExecuteOnServerAsync($"alter database {Db.Name} reset search_path");
        var after = Enumerable.Range(0, 3).Select(i => StoredEvent.Track(source, $"After {i}", "u1", DateTime.UtcNow)).ToList();
        await StoredEvent.InsertAsync(after, writer);

        var expected = during.Concat(after).Select(e => e.Id).ToList();
        var received = new List<long>();
        while (received.Count < expected.Count)
            received.Add((await client.NextAsync(TimeSpan.FromSeconds(15))).Id);
        Assert.That(received, Is.EqualTo(expected), "every row stored during and after the fault, once, in order");
    }
}
