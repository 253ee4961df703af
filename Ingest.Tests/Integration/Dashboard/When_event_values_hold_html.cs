using static Microsoft.Playwright.Assertions;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>
/// Event names and properties are anyone's input (write keys live in browsers): the dashboard shows them as text in
/// every view, so an event named like an HTML element runs nothing and adds no element.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_event_values_hold_html
{
    const string Hostile = "<img src=x onerror=alert(1)>";
    const string ScriptName = "</td><script>alert(2)</script>";

    DashboardStack _stack = null!;
    IReadOnlyList<string> _ids = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _stack = await DashboardStack.StartAsync();
        _ids = await _stack.SendTrackEventsAsync(2, [Hostile, ScriptName]);
    }

    [OneTimeTearDown]
    public async Task Stop() => await _stack.DisposeAsync();

    [Test]
    public async Task Every_view_shows_the_name_as_text_and_runs_nothing()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        var dialogs = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            await dialog.DismissAsync();
        };

        await Expect(page.Locator("#event-totals tbody td").GetByText(Hostile, new() { Exact = true })).ToHaveCountAsync(1);
        await Expect(page.Locator("#event-totals tbody td").GetByText(ScriptName, new() { Exact = true })).ToHaveCountAsync(1);
        await Expect(page.Locator("#events-legend li").GetByText(Hostile, new() { Exact = true })).ToHaveCountAsync(1);
        await Expect(page.Locator("#overview-event option").GetByText(Hostile, new() { Exact = true })).ToHaveCountAsync(1);

        await DashboardPage.ViewAsync(page, "explore");
        await Expect(page.Locator($"#explore-table tr[data-message-id='{_ids[0]}'] td.event-name")).ToHaveTextAsync(Hostile);
        await Expect(page.Locator($"#explore-table tr[data-message-id='{_ids[1]}'] td.event-name")).ToHaveTextAsync(ScriptName);
        await page.ClickAsync($"#explore-table tr[data-message-id='{_ids[0]}']");
        await Expect(page.Locator("#event-json")).ToContainTextAsync($"\"event\": \"{Hostile}\"");
        await page.ClickAsync("#event-dialog-close");

        await DashboardPage.LiveAsync(page);
        var later = await _stack.SendTrackEventsAsync(1, [Hostile]);
        await Expect(page.Locator($"#live-table tr[data-message-id='{later[0]}'] td.event-name")).ToHaveTextAsync(Hostile, new() { Timeout = 10_000 });

        Assert.That(await page.Locator("main img, main script, #event-dialog img").CountAsync(), Is.Zero, "no element made from an event's value");
        Assert.That(dialogs, Is.Empty, "no script ran");
        Assert.That(Browser.ErrorsOf(page), Is.Empty);
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Another_source_s_key_sees_none_of_these_events()
    {
        var other = await _stack.AddSourceAsync();
        var theirs = await _stack.SendTrackEventsAsync(2, ["Theirs Only"], other.WriteKey);

        var page = await DashboardPage.SignedInAsync(_stack, other.ReadKey);
        await Expect(page.Locator("#source-name")).ToHaveTextAsync(other.SourceId);
        await Expect(page.Locator("#event-totals tbody tr")).ToHaveCountAsync(1);
        Assert.That(await DashboardPage.RowsAsync(page, "#event-totals"), Is.EqualTo(new[] { new[] { "Theirs Only", "2", "100.0 %" } }));

        await DashboardPage.ViewAsync(page, "explore");
        await Expect(page.Locator("#explore-table tbody tr")).ToHaveCountAsync(2);
        Assert.That((await DashboardPage.RowsAsync(page, "#explore-table")).Select(r => r[5]), Is.EquivalentTo(theirs));
        await page.FillAsync("#lookup-form [name=messageId]", _ids[0]);
        await page.ClickAsync("#lookup-form button[type=submit]");
        await Expect(page.Locator("#explore-error")).ToHaveTextAsync($"No stored event has messageId {_ids[0]}.");

        await DashboardPage.LiveAsync(page);
        await _stack.SendTrackEventsAsync(2, ["Ours Only"]);
        var theirsLater = await _stack.SendTrackEventsAsync(1, ["Theirs Only"], other.WriteKey);
        await Expect(page.Locator($"#live-table tr[data-message-id='{theirsLater[0]}']")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        Assert.That((await DashboardPage.RowsAsync(page, "#live-table")).Select(r => r[5]), Is.EqualTo(theirsLater), "the live tail shows their event, none of ours");
        await page.Context.CloseAsync();
    }
}
