using Dapper;
using Ingest.Api.Events;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// GET /v1/events/{messageId} finds an event through its key: the key's stored_at in event_keys names the one partition
/// that holds the event, and events_stored finds it there (migration 0110). Events stored in three months, each with its
/// key as the worker or an import writes it; the same message id in another source.
/// </summary>
public sealed class When_an_event_is_found_by_its_message_id
{
    /// <summary>Partitions back to 70 days ago, then one event a month-ish in each source, both with the same message ids.</summary>
    const string InsertEventsOverThreeMonths = """
        select create_event_partitions('month', 2, now() - interval '70 days');
        with stored as (
            insert into events (source_id, message_id, type, event, user_id, "timestamp", received_at, stored_at)
            select s, 'month-' || i, 'track', s || ' ' || i, 'u1', t, t, t
            from unnest(array[@Source, @Other]) as s, generate_series(0, 2) as i,
                 lateral (select now() - interval '35 days' * i as t) x
            returning source_id, message_id, stored_at)
        insert into event_keys (source_id, message_id, stored_at) select source_id, message_id, stored_at from stored
        """;

    const string SelectIds = "select message_id, id from events where source_id = @Source";

    string _source = null!;
    string _readKey = null!;
    string _other = null!;
    string _otherReadKey = null!;

    [OneTimeSetUp]
    public async Task Store()
    {
        (_source, _, _readKey) = await ReadSide.CreateSourceAsync();
        (_other, _, _otherReadKey) = await ReadSide.CreateSourceAsync();
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        await conn.ExecuteAsync(InsertEventsOverThreeMonths, new { Source = _source, Other = _other });
    }

    [TestCase("month-0")]
    [TestCase("month-1")]
    [TestCase("month-2")]
    public async Task An_event_of_any_month_is_found_as_its_own_source_s(string messageId)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        var ids = (await conn.QueryAsync<(string MessageId, long Id)>(SelectIds, new { Source = _source })).ToDictionary(r => r.MessageId, r => r.Id);
        var otherIds = (await conn.QueryAsync<(string MessageId, long Id)>(SelectIds, new { Source = _other })).ToDictionary(r => r.MessageId, r => r.Id);

        var found = await ReadSide.GetJsonAsync($"/v1/events/{messageId}", _readKey);
        var foundByOther = await ReadSide.GetJsonAsync($"/v1/events/{messageId}", _otherReadKey);

        Assert.Multiple(() =>
        {
            Assert.That(found.GetProperty("status").GetString(), Is.EqualTo("stored"));
            Assert.That(found.GetProperty("event").GetProperty("id").GetInt64(), Is.EqualTo(ids[messageId]));
            Assert.That(found.GetProperty("event").GetProperty("event").GetString(), Is.EqualTo($"{_source} {messageId[^1]}"));
            Assert.That(foundByOther.GetProperty("event").GetProperty("id").GetInt64(), Is.EqualTo(otherIds[messageId]), "the other source's event of that id");
        });
    }

    /// <summary>The plan holds a scan of every partition; each but the key's is never executed (pruned at run time).</summary>
    [Test]
    public async Task The_lookup_reads_one_partition_of_the_three()
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        var plan = string.Join('\n', await conn.QueryAsync<string>(
            "explain (analyze, costs off, timing off, summary off) " + EventsApi.SelectEventByMessageId, new { SourceId = _source, MessageId = "month-1" }));

        var partitionsRead = plan.Split('\n').Count(line => line.Contains(" on events_p", StringComparison.Ordinal) && !line.EndsWith("(never executed)", StringComparison.Ordinal));
        Assert.That(partitionsRead, Is.EqualTo(1), plan);
    }
}
