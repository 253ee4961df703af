using Microsoft.Playwright;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>
/// The smoke test of the browser plumbing (<see cref="Browser"/>, <see cref="DashboardStack"/>): headless Chromium reads
/// a page of the real API process. A placeholder until the dashboard's own tests replace it.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_a_browser_opens_the_api
{
    DashboardStack _stack = null!;

    [OneTimeSetUp]
    public async Task Start() => _stack = await DashboardStack.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _stack.DisposeAsync();

    [TestCase(1280, 800)]
    [TestCase(390, 844)]
    public async Task The_liveness_page_names_the_service_without_console_errors(int width, int height)
    {
        var page = await Browser.NewPageAsync(_stack.Api.Url, width, height);
        // Chromium asks for /favicon.ico by itself when a page declares no icon, and a JSON page cannot; the API
        // serves none, and the 404 would be a console error that is not this page's (the dashboard declares its icon).
        await page.RouteAsync("**/favicon.ico", route => route.FulfillAsync(new() { Status = 204 }));

        var response = await page.GotoAsync("/health/live", new() { WaitUntil = WaitUntilState.NetworkIdle });

        Assert.That(response?.Status, Is.EqualTo(200));
        Assert.That(await page.Locator("body").InnerTextAsync(), Does.Contain("\"service\":\"ingest-api\""));
        var screenshot = await Browser.ScreenshotAsync(page, "health-live");
        Assert.That(new FileInfo(screenshot).Length, Is.GreaterThan(0), screenshot);
        Assert.That(Browser.ErrorsOf(page), Is.Empty);
        await page.Context.CloseAsync();
    }
}
