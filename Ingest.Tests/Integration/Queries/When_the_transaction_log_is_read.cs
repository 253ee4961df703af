using Dapper;

namespace Ingest.Tests.Integration.Queries;

/// <summary>Transaction-log rows (as workers write them), read newest first by status and time.</summary>
public sealed class When_the_transaction_log_is_read
{
    [Test]
    public async Task It_lists_the_transactions_of_a_status_and_range_newest_first_across_pages()
    {
        var (_, _, readKey) = await ReadSide.CreateSourceAsync();
        // a time range of its own, far from what other tests write
        var start = new DateTime(2031, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(Random.Shared.Next(0, 3000));
        var rows = Enumerable.Range(0, 45).Select(i => new
        {
            Id = Guid.NewGuid(),
            StartedAt = start.AddSeconds(i / 3), // equal start times: the id breaks the tie
            Status = i % 4 == 0 ? "failed" : "committed",
            Error = i % 4 == 0 ? "connection refused" : null,
        }).ToList();
        await using (var conn = await TestStack.Database.OpenConnectionAsync())
            await conn.ExecuteAsync("""
                insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, inserted, error)
                values (@Id, 'test-host', @StartedAt, @StartedAt, @Status, 1, 10, 10, @Error)
                """, rows);

        var from = start.ToString("O");
        var to = start.AddMinutes(1).ToString("O");
        var pages = await ReadSide.AllPagesAsync($"/v1/transactions?status=failed&from={from}&to={to}&limit=4", readKey, "transactions");
        var ids = pages.SelectMany(p => p).Select(t => t.GetProperty("id").GetGuid()).ToList();
        var expected = rows.Where(r => r.Status == "failed").OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id.ToString()).Select(r => r.Id).ToList();
        Assert.That(ids, Is.EqualTo(expected));
        Assert.That(pages.SelectMany(p => p).Select(t => t.GetProperty("error").GetString()), Is.All.EqualTo("connection refused"));

        var all = await ReadSide.AllPagesAsync($"/v1/transactions?from={from}&to={to}&limit=1000", readKey, "transactions");
        Assert.That(all.SelectMany(p => p).Count(), Is.EqualTo(45));
    }

    [Test]
    public async Task Its_attempts_are_counted_per_minute_with_the_events_committed()
    {
        var (_, _, readKey) = await ReadSide.CreateSourceAsync();
        var start = new DateTime(2041, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(Random.Shared.Next(0, 3000)).AddMinutes(10);
        var rows = new[]
        {
            (Offset: 5, Status: "committed", Inserted: 100),
            (Offset: 50, Status: "committed", Inserted: 30),
            (Offset: 55, Status: "failed", Inserted: 0),
            (Offset: 125, Status: "committed", Inserted: 7),
            (Offset: 60 * 70, Status: "committed", Inserted: 1000), // past the hour asked for
        };
        await using (var conn = await TestStack.Database.OpenConnectionAsync())
            await conn.ExecuteAsync("""
                insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, inserted)
                values (gen_random_uuid(), 'test-host', @StartedAt, @StartedAt, @Status, 1, @Inserted, @Inserted)
                """, rows.Select(r => new { StartedAt = start.AddSeconds(r.Offset), r.Status, r.Inserted }));

        var counts = await ReadSide.GetJsonAsync($"/v1/transactions/per-minute?from={start:O}&to={start.AddHours(1):O}", readKey);

        var minutes = counts.GetProperty("minutes").EnumerateArray().Select(m => (
            m.GetProperty("minute").GetDateTime(), m.GetProperty("committed").GetInt64(), m.GetProperty("failed").GetInt64(), m.GetProperty("inserted").GetInt64())).ToList();
        Assert.That(minutes, Is.EqualTo(new[]
        {
            (start, 2L, 1L, 130L),
            (start.AddMinutes(2), 1L, 0L, 7L),
        }));

        using var tooLong = await ReadSide.Client.SendAsync(ReadSide.Get($"/v1/transactions/per-minute?from={start:O}&to={start.AddDays(2):O}", readKey));
        Assert.That((int)tooLong.StatusCode, Is.EqualTo(400));
        Assert.That(await tooLong.Content.ReadAsStringAsync(), Does.Contain("to: the range from..to may span at most 1 days"));
    }
}
