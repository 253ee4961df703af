
namespace Ingest.Tests.Integration.Queries;

/// <summary>A client pages through a source while other events are stored at the same time, older and newer than its position.</summary>
public sealed class When_events_are_inserted_while_paging
{
    [Test]
    public async Task Pages_neither_overlap_nor_skip_an_event_that_existed_when_paging_began()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        var start = new DateTime(2026, 4, 1, 0, 0, 0, DateTimeKind.Utc);
        var existing = Enumerable.Range(0, 600).Select(i => StoredEvent.Track(source, "Existing", "u1", start.AddSeconds(i / 3))).ToList();
        await StoredEvent.InsertAsync(existing);

        using var stop = new CancellationTokenSource();
        var inserted = 0;
        var inserter = Task.Run(async () =>
        {
            var random = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                // new rows land everywhere: before, inside and after the pages already read, with equal timestamps too
                await StoredEvent.InsertAsync([.. Enumerable.Range(0, 10).Select(_ => StoredEvent.Track(source, "Concurrent", "u2", start.AddSeconds(random.Next(-10, 210))))]);
                inserted += 10;
            }
        });

        List<List<System.Text.Json.JsonElement>> pages;
        try
        {
            pages = await ReadSide.AllPagesAsync("/v1/events?limit=25", readKey);
        }
        finally
        {
            await stop.CancelAsync();
            await inserter;
        }

        var rows = pages.SelectMany(p => p).Select(e => (Id: e.GetProperty("id").GetInt64(), Timestamp: e.GetProperty("timestamp").GetDateTime())).ToList();
        Assert.That(inserted, Is.GreaterThan(0), "events were inserted while paging");
        Assert.That(rows.Select(r => r.Id), Is.Unique, "no event on two pages");
        Assert.That(rows.Select(r => r.Id), Is.SupersetOf(existing.Select(e => e.Id)), "no existing event skipped");
        for (var i = 1; i < rows.Count; i++)
            Assert.That((rows[i].Timestamp, rows[i].Id).CompareTo((rows[i - 1].Timestamp, rows[i - 1].Id)), Is.Negative, $"row {i} is not older than the row before it");
    }
}
