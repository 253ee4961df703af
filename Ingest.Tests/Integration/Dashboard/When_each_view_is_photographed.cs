using Deque.AxeCore.Playwright;
using Ingest.Database.Privacy;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>
/// Every view at a laptop's size (1280×800) and a phone's (390×844), saved under .local/dashboard-screenshots for a
/// person to look at: none is wider than the screen, none logs an error, and axe-core finds no serious or critical
/// accessibility violation (colour contrast included).
/// </summary>
[TestFixture, CancelAfter(240_000)]
public sealed class When_each_view_is_photographed
{
    static readonly string[] Names = ["Page Viewed", "Signed Up", "Order Completed", "Page Viewed", "Search", "Page Viewed", "Cart Updated", "Signed Up"];

    DashboardStack _stack = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _stack = await DashboardStack.StartAsync();
        await _stack.SendTrackEventsAsync(40, Names);
        // So the privacy panel is photographed, and checked by axe, with a request in its table.
        await PrivacyRecords.CreateAsync(TestStack.Database, _stack.SourceId, "test", PrivacyRequestType.Delete, [new PrivacySubject("userId", "nobody")], CancellationToken.None);
    }

    [OneTimeTearDown]
    public async Task Stop() => await _stack.DisposeAsync();

    [TestCase(1280, 800)]
    [TestCase(390, 844)]
    public async Task Each_fits_the_screen_with_no_error_and_no_serious_accessibility_violation(int width, int height)
    {
        var page = await DashboardPage.OpenAsync(_stack.Api.Url, width, height);
        await Expect(page.Locator("#sign-in")).ToBeVisibleAsync();
        await CheckAsync(page, "sign-in", width);

        await DashboardPage.SignInAsync(page, _stack.ReadKey);
        await Expect(page.Locator("#event-totals tbody tr")).ToHaveCountAsync(5);
        await CheckAsync(page, "overview", width);

        await DashboardPage.LiveAsync(page);
        await _stack.SendTrackEventsAsync(6, Names);
        await Expect(page.Locator("#live-table tbody tr")).ToHaveCountAsync(6, new() { Timeout = 10_000 });
        await CheckAsync(page, "live", width);

        await DashboardPage.ViewAsync(page, "explore");
        await Expect(page.Locator("#explore-table tbody tr")).Not.ToHaveCountAsync(0);
        await CheckAsync(page, "explore", width);

        await DashboardPage.ViewAsync(page, "pipeline");
        await Expect(page.Locator("#health-worker .state")).ToHaveTextAsync("up");
        await Expect(page.Locator("#tx-table tbody tr")).Not.ToHaveCountAsync(0);
        await Expect(page.Locator("#privacy-table tbody tr")).ToHaveCountAsync(1);
        await CheckAsync(page, "pipeline", width);

        Assert.That(Browser.ErrorsOf(page), Is.Empty);
        await page.Context.CloseAsync();
    }

    static async Task CheckAsync(IPage page, string view, int width)
    {
        var path = await Browser.ScreenshotAsync(page, view);
        Assert.That(new FileInfo(path).Length, Is.GreaterThan(10_000), $"{path} holds a picture");
        Assert.That(await page.EvaluateAsync<int>("document.documentElement.scrollWidth"), Is.LessThanOrEqualTo(width), $"{view} scrolls sideways at {width} px");
        var axe = await page.RunAxe();
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => string.Join(" ", n.Target)))}").ToList();
        Assert.That(serious, Is.Empty, $"{view} at {width} px");
    }
}
