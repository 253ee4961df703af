using static Microsoft.Playwright.Assertions;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>The overview shows what /v1/stats/events and /v1/stats/users answer, for events sent through the API.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_the_overview_is_read
{
    static readonly string[] Names = ["Signed Up", "Order Completed", "Signed Up", "Search", "Order Completed", "Signed Up"];

    DashboardStack _stack = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _stack = await DashboardStack.StartAsync();
        await _stack.SendTrackEventsAsync(Names.Length, Names);
    }

    [OneTimeTearDown]
    public async Task Stop() => await _stack.DisposeAsync();

    [Test]
    public async Task Its_counts_by_name_match_the_statistics_api()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        await Expect(page.Locator("#event-totals tbody tr")).ToHaveCountAsync(3);

        var shown = (await DashboardPage.RowsAsync(page, "#event-totals")).ToDictionary(r => r[0], r => long.Parse(r[1].Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture));
        var stats = await DashboardPage.GetJsonAsync(_stack, "/v1/stats/events?interval=hour");
        var answered = stats.GetProperty("counts").EnumerateArray()
            .GroupBy(c => c.GetProperty("event").GetString()!)
            .ToDictionary(g => g.Key, g => g.Sum(c => c.GetProperty("count").GetInt64()));
        Assert.That(shown, Is.EquivalentTo(answered), "the page shows the API's counts");
        Assert.That(shown, Is.EquivalentTo(new Dictionary<string, long> { ["Signed Up"] = 3, ["Order Completed"] = 2, ["Search"] = 1 }), "which are the events sent");
        await Expect(page.Locator("#total-events")).ToHaveTextAsync("6");
        await Expect(page.Locator("#total-names")).ToHaveTextAsync("3");
        await Expect(page.Locator("#events-legend li")).ToHaveTextAsync(["Signed Up", "Order Completed", "Search"]);
        await Expect(page.Locator("#events-chart canvas")).ToHaveCountAsync(1);
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Its_user_figures_match_the_statistics_api()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        var users = await DashboardPage.GetJsonAsync(_stack, "/v1/stats/users");
        var days = users.GetProperty("days").EnumerateArray().ToList();

        await Expect(page.Locator("#cumulative-users")).ToHaveTextAsync(days[^1].GetProperty("cumulativeUsers").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.Locator("#cumulative-users")).ToHaveTextAsync("6");
        await Expect(page.Locator("#new-users")).ToHaveTextAsync("6");
        await Expect(page.Locator("#peak-users")).ToHaveTextAsync(days.Max(d => d.GetProperty("users").GetInt64()).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Filtered_by_one_name_it_shows_that_name_only()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        await Expect(page.Locator("#overview-event option")).ToHaveCountAsync(4);

        await page.SelectOptionAsync("#overview-event", "Order Completed");

        await Expect(page.Locator("#event-totals tbody tr")).ToHaveCountAsync(1);
        Assert.That(await DashboardPage.RowsAsync(page, "#event-totals"), Is.EqualTo(new[] { new[] { "Order Completed", "2", "100.0 %" } }));
        await Expect(page.Locator("#total-events")).ToHaveTextAsync("2");
        await Expect(page.Locator("#overview-event option")).ToHaveCountAsync(4); // the other names stay to pick from

        await page.SelectOptionAsync("#overview-range", "7d");
        await page.SelectOptionAsync("#overview-interval", "day");
        await Expect(page.Locator("#overview-range-text")).ToContainTextAsync("per day");
        await Expect(page.Locator("#total-events")).ToHaveTextAsync("2");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Days_of_the_user_s_choice_count_those_days_only_and_a_reversed_range_is_named()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        await Expect(page.Locator("#total-events")).ToHaveTextAsync("6");
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        await page.SelectOptionAsync("#overview-range", "custom");
        await page.FillAsync("#overview-from", yesterday);
        await page.FillAsync("#overview-to", yesterday);
        await Expect(page.Locator("#overview-range-text")).ToContainTextAsync($"{yesterday} 00:00 to {today} 00:00 UTC");
        await Expect(page.Locator("#total-events")).ToHaveTextAsync("0");
        await Expect(page.Locator("#events-chart")).ToHaveTextAsync("Nothing in this range.");

        await page.FillAsync("#overview-to", today);
        await Expect(page.Locator("#total-events")).ToHaveTextAsync("6");

        await page.FillAsync("#overview-from", today);
        await page.FillAsync("#overview-to", yesterday);
        await Expect(page.Locator("#app-error")).ToHaveTextAsync("to: must be later than from.");
        await page.Context.CloseAsync();
    }
}
