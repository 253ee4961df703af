using System.Diagnostics;
using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>The live view tails the source's events as they are stored: within seconds, filterable, and paused without losing any.</summary>
[TestFixture, CancelAfter(180_000)]
public sealed partial class When_events_arrive_while_the_live_view_is_open
{
    DashboardStack _stack = null!;

    [OneTimeSetUp]
    public async Task Start() => _stack = await DashboardStack.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _stack.DisposeAsync();

    [Test]
    public async Task They_appear_within_seconds_with_their_lag()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        await DashboardPage.LiveAsync(page);

        var sent = Stopwatch.StartNew();
        var ids = await _stack.SendTrackEventsAsync(5, ["Live Arrived"]);
        foreach (var id in ids)
            await Expect(page.Locator($"#live-table tr[data-message-id='{id}']")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        Assert.That(sent.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)), "sent, stored and shown within seconds");

        var rows = await DashboardPage.RowsAsync(page, "#live-table");
        Assert.That(rows.Select(r => r[2]), Has.Exactly(5).EqualTo("Live Arrived"));
        Assert.That(rows.Select(r => r[5]).Take(5), Is.EqualTo(ids.Reverse()), "newest first");
        Assert.That(rows.Select(r => r[4]), Has.All.Match(Lag()), "each row shows storedAt − receivedAt");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Paused_it_loses_none_and_shows_them_all_on_resume()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        await DashboardPage.LiveAsync(page);
        await page.ClickAsync("#live-pause");

        var ids = await _stack.SendTrackEventsAsync(8, ["While Paused"]);
        await Expect(page.Locator("#live-status")).ToContainTextAsync("paused, 8 waiting", new() { Timeout = 10_000 });
        await Expect(page.Locator("#live-table tbody tr")).ToHaveCountAsync(0);

        await page.ClickAsync("#live-pause");
        await Expect(page.Locator("#live-table tbody tr")).ToHaveCountAsync(8);
        Assert.That((await DashboardPage.RowsAsync(page, "#live-table")).Select(r => r[5]), Is.EquivalentTo(ids));
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task The_filter_shows_only_the_names_that_match()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        await DashboardPage.LiveAsync(page);
        await _stack.SendTrackEventsAsync(6, ["Checkout Started", "Page Viewed"]);
        await Expect(page.Locator("#live-table tbody tr")).ToHaveCountAsync(6, new() { Timeout = 10_000 });

        await page.FillAsync("#live-filter", "checkout");

        await Expect(page.Locator("#live-table tbody tr:visible")).ToHaveCountAsync(3);
        Assert.That(await page.Locator("#live-table tbody tr:visible td.event-name").AllTextContentsAsync(), Has.All.EqualTo("Checkout Started"));
        var later = await _stack.SendTrackEventsAsync(2, ["Page Viewed", "Checkout Started"]);
        await Expect(page.Locator($"#live-table tr[data-message-id='{later[1]}']")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Expect(page.Locator($"#live-table tr[data-message-id='{later[0]}']")).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [GeneratedRegex(@"^\d+(\.\d+)? (ms|s)$")]
    private static partial Regex Lag();
}
