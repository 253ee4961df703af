using System.Text.Json;
using Dapper;
using Ingest.Database.Privacy;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// GET /v1/privacy/summary with a read key: the source's own requests, as recorded, with their status and counts; its
/// suppressed subjects counted and its suppressed events counted by this API; no subject's id or hash anywhere. No
/// worker runs here, so a request stays pending.
/// </summary>
[TestFixture, CancelAfter(60_000)]
public sealed class When_the_privacy_summary_is_read
{
    /// <summary>What a worker's PrivacyRunner writes for a suppression, and for an erasure alone (which suppresses nothing).</summary>
    const string InsertSuppressed = """
        insert into privacy_filters (source_id, subject_hash, suppressed_by) values (@SourceId, privacy_subject_hash(@Kind, @Subject), @RequestId)
        """;

    const string InsertErased = """
        insert into privacy_filters (source_id, subject_hash, erased_before, erased_by) values (@SourceId, privacy_subject_hash('userId', @Subject), now(), @RequestId)
        """;

    static readonly string[] RequestFields = ["id", "type", "status", "reason", "subjects", "key", "requestedAt", "startedAt", "finishedAt", "removed"];

    static CancellationToken Ct => TestContext.CurrentContext.CancellationToken;

    readonly List<Guid> _recorded = [];

    /// <summary>A request recorded as the API records one; no worker runs it while this class reads it.</summary>
    async Task<Guid> RecordAsync(string source, string key, string type, IReadOnlyList<PrivacySubject> subjects, CancellationToken ct)
    {
        var id = await PrivacyRecords.CreateAsync(TestStack.Database, source, key, type, subjects, ct);
        _recorded.Add(id);
        return id;
    }

    /// <summary>Closes the requests left pending, so that no later test's worker carries them out beside what that test watches.</summary>
    [OneTimeTearDown]
    public async Task CloseRecorded()
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        await conn.ExecuteAsync("update privacy_requests set status = 'done', finished_at = now() where id = any(@Ids) and status = 'pending'", new { Ids = _recorded.ToArray() });
    }

    [Test]
    public async Task A_pending_request_shows_with_its_counts_and_no_subject()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        var subject = $"subject-{Guid.NewGuid():N}";
        var id = await RecordAsync(source, "test", PrivacyRequestType.Delete, [new PrivacySubject("userId", subject)], Ct);

        using var response = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/privacy/summary", readKey), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.That((int)response.StatusCode, Is.EqualTo(200), body);
        var summary = JsonDocument.Parse(body).RootElement;
        var requests = summary.GetProperty("requests").EnumerateArray().ToList();
        Assert.That(requests, Has.Count.EqualTo(1), body);
        var request = requests[0];
        Assert.Multiple(() =>
        {
            Assert.That(summary.GetProperty("suppressedEvents").GetInt64(), Is.Zero);
            Assert.That(summary.GetProperty("suppressedSubjects").GetInt64(), Is.Zero);
            Assert.That(request.EnumerateObject().Select(p => p.Name), Is.EquivalentTo(RequestFields), "nothing of the subjects but their number");
            Assert.That(request.GetProperty("id").GetGuid(), Is.EqualTo(id));
            Assert.That(request.GetProperty("type").GetString(), Is.EqualTo("delete"));
            Assert.That(request.GetProperty("status").GetString(), Is.EqualTo("pending"));
            Assert.That(request.GetProperty("reason").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(request.GetProperty("subjects").GetInt32(), Is.EqualTo(1));
            Assert.That(request.GetProperty("key").GetString(), Is.EqualTo("test"));
            Assert.That(request.GetProperty("requestedAt").GetDateTime(), Is.EqualTo(DateTime.UtcNow).Within(TimeSpan.FromMinutes(1)));
            Assert.That(request.GetProperty("startedAt").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(request.GetProperty("finishedAt").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(request.GetProperty("removed").GetRawText(), Is.EqualTo("""{"events":0,"quarantinedEvents":0,"deadLetters":0}"""));
            Assert.That(body, Does.Not.Contain(subject), "the subject's id is not in the answer");
        });
    }

    [Test]
    public async Task A_read_key_sees_only_its_own_source_s_requests_and_suppressions()
    {
        var (mine, _, myReadKey) = await ReadSide.CreateSourceAsync();
        var (other, _, otherReadKey) = await ReadSide.CreateSourceAsync();
        var myRequest = await RecordAsync(mine, "test", PrivacyRequestType.Suppress, [new PrivacySubject("userId", "mine")], Ct);
        var otherRequest = await RecordAsync(other, "test", PrivacyRequestType.Suppress,
            [new PrivacySubject("userId", "a"), new PrivacySubject("anonymousId", "b")], Ct);
        await using (var conn = await TestStack.Database.OpenConnectionAsync(Ct))
            await conn.ExecuteAsync(new CommandDefinition(InsertSuppressed, new[]
            {
                new { SourceId = other, Kind = "userId", Subject = "a", RequestId = otherRequest },
                new { SourceId = other, Kind = "anonymousId", Subject = "b", RequestId = otherRequest },
            }, cancellationToken: Ct));

        var my = await ReadSide.GetJsonAsync("/v1/privacy/summary", myReadKey);
        var theirs = await ReadSide.GetJsonAsync("/v1/privacy/summary", otherReadKey);

        Assert.Multiple(() =>
        {
            Assert.That(Ids(my), Is.EqualTo(new[] { myRequest }));
            Assert.That(my.GetProperty("suppressedSubjects").GetInt64(), Is.Zero);
            Assert.That(Ids(theirs), Is.EqualTo(new[] { otherRequest }));
            Assert.That(theirs.GetProperty("requests")[0].GetProperty("subjects").GetInt32(), Is.EqualTo(2));
            Assert.That(theirs.GetProperty("suppressedSubjects").GetInt64(), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Suppressed_subjects_and_the_events_this_api_suppressed_are_counted_but_not_erased_ones()
    {
        var (source, writeKey, readKey) = await ReadSide.CreateSourceAsync();
        var suppress = await RecordAsync(source, "test", PrivacyRequestType.Suppress, [new PrivacySubject("userId", "quiet")], Ct);
        var delete = await RecordAsync(source, "test", PrivacyRequestType.Delete, [new PrivacySubject("userId", "gone")], Ct);
        await using (var conn = await TestStack.Database.OpenConnectionAsync(Ct))
        {
            await conn.ExecuteAsync(new CommandDefinition(InsertSuppressed, new { SourceId = source, Kind = "userId", Subject = "quiet", RequestId = suppress }, cancellationToken: Ct));
            await conn.ExecuteAsync(new CommandDefinition(InsertErased, new { SourceId = source, Subject = "gone", RequestId = delete }, cancellationToken: Ct));
        }

        // The API takes the suppression up at its next refresh (every second here); from then on it counts what it drops.
        await Eventually.HoldsAsync(async t =>
        {
            using var track = await ReadSide.Client.SendAsync(ApiHost.Track(writeKey, new { userId = "quiet", @event = "Suppressed" }), t);
            Assert.That((int)track.StatusCode, Is.EqualTo(200), "a suppressed subject's event is answered 200");
            return (await ReadSide.GetJsonAsync("/v1/privacy/summary", readKey)).GetProperty("suppressedEvents").GetInt64() > 0;
        }, TimeSpan.FromSeconds(15), () => "the API to suppress the subject's events");
        var before = (await ReadSide.GetJsonAsync("/v1/privacy/summary", readKey)).GetProperty("suppressedEvents").GetInt64();
        using (var track = await ReadSide.Client.SendAsync(ApiHost.Track(writeKey, new { userId = "quiet", @event = "Suppressed again" }), Ct))
            Assert.That((int)track.StatusCode, Is.EqualTo(200));
        var summary = await ReadSide.GetJsonAsync("/v1/privacy/summary", readKey);

        Assert.Multiple(() =>
        {
            Assert.That(summary.GetProperty("suppressedEvents").GetInt64(), Is.EqualTo(before + 1), "one more event suppressed, one more counted");
            Assert.That(summary.GetProperty("suppressedSubjects").GetInt64(), Is.EqualTo(1), "the erased subject is not suppressed");
            Assert.That(Ids(summary), Is.EqualTo(new[] { delete, suppress }), "newest first");
        });
        await ReadSide.Api.DrainAsync(); // the events sent before the suppression was loaded, published to the shared API's queue
    }

    static Guid[] Ids(JsonElement summary) => summary.GetProperty("requests").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()).ToArray();
}
