
namespace Ingest.Tests.Integration.Queries;

/// <summary>A source with events spread over days and hours, some users first seen before the range asked.</summary>
public sealed class When_statistics_are_asked
{
    static readonly DateTime Day0 = new(2026, 5, 1, 0, 0, 0, DateTimeKind.Utc);
    readonly List<StoredEvent> _events = [];
    string _readKey = null!;

    [OneTimeSetUp]
    public async Task Seed()
    {
        string source;
        (source, _, _readKey) = await ReadSide.CreateSourceAsync();
        var random = new Random(42);
        string[] names = ["Opened", "Saved", "Closed"];
        // 10 days (day -3 .. 6) of events, users u0..u29 arriving over time, some anonymous only
        for (var i = 0; i < 900; i++)
        {
            var at = Day0.AddDays(-3).AddMinutes(random.Next(0, 10 * 24 * 60));
            var user = random.Next(0, 1 + (int)(at - Day0.AddDays(-3)).TotalDays * 3);
            var anonymousOnly = user % 4 == 3;
            _events.Add(new(source, Guid.NewGuid().ToString(), "track", names[random.Next(names.Length)],
                anonymousOnly ? null : $"u{user}", anonymousOnly ? $"anon{user}" : $"device{random.Next(3)}", at));
        }
        // identify calls count as user activity, not as named events
        _events.Add(new(source, Guid.NewGuid().ToString(), "identify", null, "u-identified", null, Day0.AddHours(5)));
        await StoredEvent.InsertAsync(_events);
    }

    static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    [TestCase("hour", 0, 2)]
    [TestCase("day", 0, 5)]
    [TestCase("day", -5, 15)]
    public async Task Event_counts_per_bucket_match_the_events_inserted(string interval, int fromDay, int toDay)
    {
        var from = Day0.AddDays(fromDay);
        var to = Day0.AddDays(toDay);
        var stats = await ReadSide.GetJsonAsync($"/v1/stats/events?interval={interval}&from={Iso(from)}&to={Iso(to)}", _readKey);
        var actual = stats.GetProperty("counts").EnumerateArray()
            .Select(c => (c.GetProperty("bucket").GetDateTime(), c.GetProperty("event").GetString(), c.GetProperty("count").GetInt64())).ToList();
        var expected = _events.Where(e => e.Event is not null && e.Timestamp >= from && e.Timestamp < to)
            .GroupBy(e => (Bucket: interval == "hour" ? new DateTime(e.Timestamp.Year, e.Timestamp.Month, e.Timestamp.Day, e.Timestamp.Hour, 0, 0, DateTimeKind.Utc) : e.Timestamp.Date, e.Event))
            .Select(g => (g.Key.Bucket, g.Key.Event, (long)g.Count())).OrderBy(x => x.Bucket).ThenBy(x => x.Event, StringComparer.Ordinal).ToList();
        Assert.That(expected, Is.Not.Empty);
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public async Task Event_counts_of_one_event_name_leave_the_others_out()
    {
        var from = Day0;
        var to = Day0.AddDays(3);
        var stats = await ReadSide.GetJsonAsync($"/v1/stats/events?interval=day&from={Iso(from)}&to={Iso(to)}&event=Saved", _readKey);
        var counts = stats.GetProperty("counts").EnumerateArray().ToList();
        Assert.That(counts.Select(c => c.GetProperty("event").GetString()), Is.All.EqualTo("Saved"));
        Assert.That(counts.Sum(c => c.GetProperty("count").GetInt64()), Is.EqualTo(_events.Count(e => e.Event == "Saved" && e.Timestamp >= from && e.Timestamp < to)));
    }

    [Test]
    public async Task Distinct_new_and_cumulative_users_per_day_match_the_events_inserted()
    {
        var from = Day0;
        var to = Day0.AddDays(4);
        var stats = await ReadSide.GetJsonAsync($"/v1/stats/users?from={Iso(from)}&to={Iso(to)}", _readKey);
        var actual = stats.GetProperty("days").EnumerateArray().Select(d => (d.GetProperty("day").GetDateTime(), d.GetProperty("users").GetInt64(),
            d.GetProperty("newUsers").GetInt64(), d.GetProperty("cumulativeUsers").GetInt64())).ToList();

        static string UserOf(StoredEvent e) => e.UserId ?? e.AnonymousId!;
        var firstSeen = _events.GroupBy(UserOf).ToDictionary(g => g.Key, g => g.Min(e => e.Timestamp));
        var expected = Enumerable.Range(0, 4).Select(d => Day0.AddDays(d)).Select(day => (
            day,
            (long)_events.Where(e => e.Timestamp >= day && e.Timestamp < day.AddDays(1)).Select(UserOf).Distinct().Count(),
            (long)firstSeen.Values.Count(f => f >= day && f < day.AddDays(1)),
            (long)firstSeen.Values.Count(f => f < day.AddDays(1)))).ToList();
        Assert.That(expected[0].Item4 - expected[0].Item3, Is.GreaterThan(0), "some users were first seen before the range");
        Assert.That(actual, Is.EqualTo(expected));
    }

    [TestCase("/v1/stats/events?interval=week", "interval")]
    [TestCase("/v1/stats/events?interval=hour&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z", "to")]
    [TestCase("/v1/stats/users?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to")]
    public async Task A_bad_interval_or_too_long_a_range_is_refused_with_400(string path, string parameter)
    {
        using var response = await ReadSide.Client.SendAsync(ReadSide.Get(path, _readKey));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.EqualTo(400), body);
        Assert.That(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty(parameter, out _), Is.True, body);
    }
}
