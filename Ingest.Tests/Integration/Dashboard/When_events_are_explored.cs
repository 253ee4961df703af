using static Microsoft.Playwright.Assertions;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>The explore view: /v1/events with its filters, keyset pages, one event's JSON, a lookup by messageId and the CSV export.</summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_events_are_explored
{
    DashboardStack _stack = null!;
    IReadOnlyList<string> _explored = null!;
    IReadOnlyList<string> _others = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _stack = await DashboardStack.StartAsync();
        _explored = await _stack.SendTrackEventsAsync(30, ["Explored"]);
        _others = await _stack.SendTrackEventsAsync(4, ["Other"]);
    }

    [OneTimeTearDown]
    public async Task Stop() => await _stack.DisposeAsync();

    static async Task<Microsoft.Playwright.IPage> ExploreAsync(DashboardStack stack)
    {
        var page = await DashboardPage.SignedInAsync(stack);
        await DashboardPage.ViewAsync(page, "explore");
        return page;
    }

    static async Task<List<string>> MessageIdsAsync(Microsoft.Playwright.IPage page) =>
        (await DashboardPage.RowsAsync(page, "#explore-table")).Select(r => r[5]).ToList();

    [Test]
    public async Task An_event_filter_is_paged_by_keyset_with_every_event_once()
    {
        var page = await ExploreAsync(_stack);
        await Expect(page.Locator("#explore-table tbody tr")).ToHaveCountAsync(34);
        await page.FillAsync("#explore-form [name=event]", "Explored");
        await page.SelectOptionAsync("#explore-form [name=limit]", "25");
        await page.ClickAsync("#explore-form button[type=submit]");
        await Expect(page.Locator("#explore-page")).ToContainTextAsync("Page 1: 25 events");
        var first = await MessageIdsAsync(page);

        await page.ClickAsync("#explore-next");
        await Expect(page.Locator("#explore-page")).ToContainTextAsync("Page 2: 5 events, newest first; the last page");
        var second = await MessageIdsAsync(page);
        await Expect(page.Locator("#explore-next")).ToBeDisabledAsync();

        Assert.That(first.Concat(second), Is.EquivalentTo(_explored), "every event of the filter once, none of another name");
        Assert.That((await DashboardPage.RowsAsync(page, "#explore-table")).Select(r => r[2]), Has.All.EqualTo("Explored"));

        await page.ClickAsync("#explore-first");
        await Expect(page.Locator("#explore-page")).ToContainTextAsync("Page 1: 25 events");
        Assert.That(await MessageIdsAsync(page), Is.EqualTo(first));
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task The_user_and_type_filters_narrow_the_list_and_a_bad_range_is_named()
    {
        var page = await ExploreAsync(_stack);
        await page.FillAsync("#explore-form [name=userId]", "user-3");
        await page.ClickAsync("#explore-form button[type=submit]");
        await Expect(page.Locator("#explore-table tbody tr")).ToHaveCountAsync(2);
        Assert.That((await DashboardPage.RowsAsync(page, "#explore-table")).Select(r => r[3]), Has.All.EqualTo("user-3"));

        await page.SelectOptionAsync("#explore-form [name=type]", "identify");
        await page.ClickAsync("#explore-form button[type=submit]");
        await Expect(page.Locator("#explore-page")).ToHaveTextAsync("No events match.");

        await page.FillAsync("#explore-form [name=from]", "2026-11-20T10:00");
        await page.FillAsync("#explore-form [name=to]", "2026-11-19T10:00");
        await page.ClickAsync("#explore-form button[type=submit]");
        await Expect(page.Locator("#explore-error")).ToHaveTextAsync("to: must be later than from.");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task A_row_opens_the_event_s_whole_json()
    {
        var page = await ExploreAsync(_stack);
        await page.ClickAsync($"#explore-table tr[data-message-id='{_explored[7]}']");

        await Expect(page.Locator("#event-dialog")).ToBeVisibleAsync();
        var json = System.Text.Json.JsonDocument.Parse(await page.Locator("#event-json").TextContentAsync() ?? "").RootElement;
        Assert.That(json.GetProperty("messageId").GetString(), Is.EqualTo(_explored[7]));
        Assert.That(json.GetProperty("userId").GetString(), Is.EqualTo("user-7"));
        Assert.That(json.GetProperty("properties").GetProperty("n").GetInt32(), Is.EqualTo(7));
        await page.ClickAsync("#event-dialog-close");
        await Expect(page.Locator("#event-dialog")).ToBeHiddenAsync();

        await page.FillAsync("#lookup-form [name=messageId]", _others[2]);
        await page.ClickAsync("#lookup-form button[type=submit]");
        await Expect(page.Locator("#event-json")).ToContainTextAsync("\"status\": \"stored\"");
        await Expect(page.Locator("#event-json")).ToContainTextAsync(_others[2]);
        await page.ClickAsync("#event-dialog-close");

        await page.FillAsync("#lookup-form [name=messageId]", "never-sent");
        await page.ClickAsync("#lookup-form button[type=submit]");
        await Expect(page.Locator("#explore-error")).ToHaveTextAsync("No stored event has messageId never-sent.");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task The_csv_export_holds_every_event_of_the_current_filter()
    {
        var page = await ExploreAsync(_stack);
        await page.FillAsync("#explore-form [name=event]", "Explored");
        await page.SelectOptionAsync("#explore-form [name=limit]", "25");
        await page.ClickAsync("#explore-form button[type=submit]");
        await Expect(page.Locator("#explore-page")).ToContainTextAsync("Page 1: 25 events");

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#explore-csv"));

        Assert.That(download.SuggestedFilename, Is.EqualTo("events.csv"));
        var lines = (await File.ReadAllLinesAsync(await download.PathAsync())).Where(l => l.Length > 0).ToList();
        Assert.That(lines, Has.Count.EqualTo(31), "a header and all 30 events of the filter, not only the page shown");
        Assert.That(lines[0], Does.StartWith("id,message_id,type,event"));
        foreach (var id in _explored) Assert.That(lines.Count(l => l.Contains(id, StringComparison.Ordinal)), Is.EqualTo(1), id);
        Assert.That(_others.Any(id => lines.Any(l => l.Contains(id, StringComparison.Ordinal))), Is.False, "no event of another name");
        await page.Context.CloseAsync();
    }
}
