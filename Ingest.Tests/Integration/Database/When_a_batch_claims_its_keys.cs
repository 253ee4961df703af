using System.Text.Json;
using Dapper;
using Ingest.Contracts;
using Ingest.Tests.Integration.Worker;
using Ingest.Worker.Persistence;
using Npgsql;

namespace Ingest.Tests.Integration.Database;

/// <summary>
/// Each of the worker's three ways to write a batch (the unnest statement, COPY of the claimed events, and one by
/// one after a refusal) deduplicates on (source, message id) through event_keys, with no trigger on events (migration
/// 0108): the first event of a key in a batch is stored, a key already stored or held by a transaction that commits
/// skips its event, a filtered subject's event is skipped with its key kept, and each key carries its event's stored_at.
/// Each path runs again in a database whose locale is not C, where the parameters' collation is not the key columns'
/// (migration 0111): as in a database of postgres:15's image (en_US.UTF-8), C.UTF-8 being the one every Debian has.
/// </summary>
[TestFixture(Path.Unnest), TestFixture(Path.Copy), TestFixture(Path.OneByOne)]
[TestFixture(Path.Unnest, "C.UTF-8"), TestFixture(Path.Copy, "C.UTF-8"), TestFixture(Path.OneByOne, "C.UTF-8"), CancelAfter(60_000)]
public sealed class When_a_batch_claims_its_keys(When_a_batch_claims_its_keys.Path path, string? locale)
{
    public enum Path { Unnest, Copy, OneByOne }

    public When_a_batch_claims_its_keys(Path path) : this(path, null) { }

    OwnDatabase _db = null!;
    string _source = null!;

    [OneTimeSetUp]
    public async Task CreateDatabase() => _db = await OwnDatabase.CreateAsync(locale);

    [OneTimeTearDown]
    public async Task DropDatabase() => await _db.DisposeAsync();

    [SetUp]
    public async Task NewSource()
    {
        _source = $"keys-{Guid.NewGuid():N}"[..16];
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("insert into sources (id, name) values (@_source, @_source)", new { _source });
    }

    [Test]
    public async Task A_key_twice_in_one_batch_is_stored_once_as_its_first_event_and_the_batch_keeps_its_order()
    {
        var inserted = await WriteAsync(Track("a", "first"), Track("b"), Track("a", "second"), Track("c"), Track("b", "second"));

        Assert.That(inserted, Is.EqualTo(3));
        var stored = await StoredAsync();
        Assert.That(stored.Select(e => (e.MessageId, e.Event)), Is.EqualTo(new[] { ("a", "first"), ("b", "Test Event"), ("c", "Test Event") }),
            "in id order: the batch's order, each key's first event");
    }

    [Test]
    public async Task A_key_already_stored_skips_its_event()
    {
        await WriteAsync(Track("a", "first"));

        var inserted = await WriteAsync(Track("a", "again"), Track("d"));

        Assert.That(inserted, Is.EqualTo(1));
        Assert.That((await StoredAsync()).Select(e => (e.MessageId, e.Event)), Is.EqualTo(new[] { ("a", "first"), ("d", "Test Event") }));
    }

    [Test]
    public async Task Each_key_carries_its_event_s_stored_at()
    {
        await WriteAsync(Track("a"), Track("b"), Track("c"));

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var counts = await conn.QuerySingleAsync<(long Events, long Keys, long SameStoredAt)>("""
            select (select count(*) from events where source_id = @_source),
                   (select count(*) from event_keys where source_id = @_source),
                   (select count(*) from events e join event_keys k using (source_id, message_id)
                    where e.source_id = @_source and e.stored_at = k.stored_at)
            """, new { _source });
        Assert.That(counts, Is.EqualTo((3L, 3L, 3L)), "three events, three keys, the same stored_at each");
    }

    [TestCase(true, 1, TestName = "{m}(committed: skipped)")]
    [TestCase(false, 2, TestName = "{m}(rolled back: stored)")]
    public async Task A_key_held_by_another_transaction_waits_for_its_outcome(bool commit, int expected)
    {
        await using var holder = await _db.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("insert into event_keys (source_id, message_id, stored_at) values (@_source, 'held', now())", new { _source }, hold);

        var write = WriteAsync(Track("held"), Track("free"));
        await Eventually.HoldsAsync(async _ => await WaitingOnLockAsync(), TimeSpan.FromSeconds(20), () => "the write waiting for the held key");
        Assert.That(write.IsCompleted, Is.False);

        if (commit) await hold.CommitAsync();
        else await hold.RollbackAsync();

        Assert.That(await write, Is.EqualTo(expected));
        Assert.That((await StoredAsync()).Select(e => e.MessageId), Is.EqualTo(commit ? new[] { "free" } : new[] { "held", "free" }));
    }

    [Test]
    public async Task A_filtered_subject_s_event_is_skipped_and_its_key_kept()
    {
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("""
                insert into privacy_filters (source_id, subject_hash, erased_before)
                values (@_source, privacy_subject_hash('userId', 'erased-user'), now() + interval '1 day')
                """, new { _source });
        var erased = TestEvents.Track(_source, "erased") with { UserId = "erased-user" };

        var inserted = await WriteAsync(Track("kept"), erased);
        var resent = await WriteAsync(Track("erased", "resent by another user"));

        Assert.That((inserted, resent), Is.EqualTo((1, 0)), "the erased subject's event skipped, and a resend of its message a duplicate");
        Assert.That((await StoredAsync()).Select(e => e.MessageId), Is.EqualTo(new[] { "kept" }));
    }

    [Test]
    public async Task Each_event_s_json_is_stored_as_its_message_carried_it()
    {
        // Characters outside ASCII, raw and escaped, escapes jsonb keeps, nesting, and a number's written precision.
        var json = new[]
        {
            """{"plan":"prö","emoji":"😀","escaped":"\u00e9\u65e5","quote":"a\"b\nc","amount":12.50}""",
            """{"name":"Zoë","tags":["a",{"b":[1,2,{"c":null}]}]}""",
            """{"ip":"127.0.0.1","page":{"path":"/日本","title":"\ud83d\ude00"}}""",
            """{"All":false,"Segment.io":{"apiKey":"k"}}""",
        };
        var e = Track("json") with
        {
            Properties = JsonElement.Parse(json[0]), Traits = JsonElement.Parse(json[1]),
            Context = JsonElement.Parse(json[2]), Integrations = JsonElement.Parse(json[3]),
        };

        Assert.That(await WriteAsync(e), Is.EqualTo(1));

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var stored = await conn.QuerySingleAsync<(string, string, string, string)>(
            "select properties::text, traits::text, context::text, integrations::text from events where source_id = @_source", new { _source });
        var sent = await conn.QuerySingleAsync<(string, string, string, string)>(
            "select @p::jsonb::text, @t::jsonb::text, @c::jsonb::text, @i::jsonb::text", new { p = json[0], t = json[1], c = json[2], i = json[3] });
        Assert.That(stored, Is.EqualTo(sent), "each JSON column as PostgreSQL reads the text the message carried");
    }

    AnalyticsEvent Track(string messageId, string @event = "Test Event") => TestEvents.Track(_source, messageId) with { Event = @event };

    Task<int> WriteAsync(params AnalyticsEvent[] events)
    {
        var attempt = new TransactionAttempt(Guid.NewGuid(), "keys-test", 1, 1, DateTime.UtcNow, null);
        return path switch
        {
            Path.Unnest => new UnnestInsert(_db.DataSource).InsertAsync(attempt, events, CancellationToken.None),
            Path.Copy => new CopyInsert(_db.DataSource).InsertAsync(attempt, events, CancellationToken.None),
            _ => OneByOneAsync(attempt, events),
        };
    }

    async Task<int> OneByOneAsync(TransactionAttempt attempt, AnalyticsEvent[] events) =>
        (await new OneByOneInsert(_db.DataSource).InsertAsync(attempt, events, new string?[events.Length], CancellationToken.None)).Inserted;

    async Task<List<(string MessageId, string Event)>> StoredAsync()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<(string, string)>("select message_id, event from events where source_id = @_source order by id", new { _source })).AsList();
    }

    async Task<bool> WaitingOnLockAsync()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<bool>(
            "select exists (select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock')");
    }
}
