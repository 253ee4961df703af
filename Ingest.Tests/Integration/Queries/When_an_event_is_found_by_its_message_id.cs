using Dapper;
using Ingest.Api.Events;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// GET /v1/events/{messageId} finds an event through its key: the key's stored_at in event_keys names the one partition
/// that holds the event, and events_stored finds it there (migration 0110). Events stored in three months, each with its
/// key as the worker or an import writes it; the same message ids in another source.
/// </summary>
public sealed class When_an_event_is_found_by_its_message_id
{
    const string CreatePartitionsBack75Days = "select create_event_partitions('month', 2, now() - interval '75 days')";

    List<StoredEvent> _mine = null!;
    List<StoredEvent> _others = null!;
    string _readKey = null!;
    string _otherReadKey = null!;

    [OneTimeSetUp]
    public async Task Store()
    {
        (var source, _, _readKey) = await ReadSide.CreateSourceAsync();
        (var other, _, _otherReadKey) = await ReadSide.CreateSourceAsync();
        await using (var conn = await TestStack.Database.OpenConnectionAsync())
            await conn.ExecuteAsync(CreatePartitionsBack75Days);
        _mine = OverThreeMonths(source);
        _others = OverThreeMonths(other);
        await StoredEvent.InsertAsync(_mine);
        await StoredEvent.InsertAsync(_others);
    }

    /// <summary>Events month-0, month-1 and month-2 of the source, stored now, 35 and 70 days ago.</summary>
    static List<StoredEvent> OverThreeMonths(string source)
    {
        var now = DateTime.UtcNow;
        return [.. Enumerable.Range(0, 3).Select(i => StoredEvent.Track(source, $"{source} {i}", "u1", now) with
        {
            MessageId = $"month-{i}",
            StoredAt = now.AddDays(-35 * i),
        })];
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    public async Task An_event_of_any_month_is_found_as_its_own_source_s(int month)
    {
        var (mine, others) = (_mine[month], _others[month]);

        var found = await ReadSide.GetJsonAsync($"/v1/events/{mine.MessageId}", _readKey);
        var foundByOther = await ReadSide.GetJsonAsync($"/v1/events/{mine.MessageId}", _otherReadKey);

        Assert.Multiple(() =>
        {
            Assert.That(found.GetProperty("status").GetString(), Is.EqualTo("stored"));
            Assert.That(found.GetProperty("event").GetProperty("id").GetInt64(), Is.EqualTo(mine.Id));
            Assert.That(found.GetProperty("event").GetProperty("event").GetString(), Is.EqualTo(mine.Event));
            Assert.That(foundByOther.GetProperty("event").GetProperty("id").GetInt64(), Is.EqualTo(others.Id), "the other source's event of that id");
        });
    }

    /// <summary>The plan holds a scan of every partition; each but the key's is never executed (pruned at run time).</summary>
    [Test]
    public async Task The_lookup_reads_one_partition_of_the_three()
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        var plan = string.Join('\n', await conn.QueryAsync<string>(
            "explain (analyze, costs off, timing off, summary off) " + EventsApi.SelectEventByMessageId, new { _mine[1].SourceId, _mine[1].MessageId }));

        var partitionsRead = plan.Split('\n').Count(line => line.Contains(" on events_p", StringComparison.Ordinal) && !line.EndsWith("(never executed)", StringComparison.Ordinal));
        Assert.That(partitionsRead, Is.EqualTo(1), plan);
    }
}
