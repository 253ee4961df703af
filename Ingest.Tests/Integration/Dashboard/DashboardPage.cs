using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>The dashboard opened in <see cref="Browser"/>, signed in as a user signs in, and the read API it shows, asked directly.</summary>
public static class DashboardPage
{
    public static async Task<IPage> OpenAsync(Uri api, int width = 1280, int height = 800)
    {
        var page = await Browser.NewPageAsync(api, width, height);
        await page.GotoAsync("/dashboard/");
        return page;
    }

    /// <summary>The dashboard after typing <paramref name="readKey"/> (the stack's own by default) into the sign-in form.</summary>
    public static async Task<IPage> SignedInAsync(DashboardStack stack, string? readKey = null, int width = 1280, int height = 800)
    {
        var page = await OpenAsync(stack.Api.Url, width, height);
        await SignInAsync(page, readKey ?? stack.ReadKey);
        await Expect(page.Locator("#app")).ToBeVisibleAsync();
        return page;
    }

    public static async Task SignInAsync(IPage page, string key)
    {
        await page.FillAsync("#read-key", key);
        await page.ClickAsync("#sign-in-form button[type=submit]");
    }

    /// <summary>Clicks a view's link in the navigation (overview, live, explore, pipeline) and waits for the view.</summary>
    public static async Task ViewAsync(IPage page, string view)
    {
        await page.ClickAsync($"nav a[data-view='{view}']");
        await Expect(page.Locator($"#view-{view}")).ToBeVisibleAsync();
    }

    /// <summary>The live view, once its stream is connected: what is stored from now on shows in it.</summary>
    public static async Task LiveAsync(IPage page)
    {
        await ViewAsync(page, "live");
        await Expect(page.Locator("#live-status")).ToContainTextAsync("Connected");
    }

    /// <summary>The text of each cell of a table's body, row by row.</summary>
    public static async Task<List<string[]>> RowsAsync(IPage page, string table)
    {
        var rows = new List<string[]>();
        foreach (var row in await page.Locator($"{table} tbody tr").AllAsync())
            rows.Add([.. await row.Locator("td").AllTextContentsAsync()]);
        return rows;
    }

    /// <summary>GET a read endpoint of the stack's API with the read key (the stack's own by default): asserts a 200 and returns its JSON.</summary>
    public static Task<JsonElement> GetJsonAsync(DashboardStack stack, string path, string? readKey = null) =>
        Queries.ReadSide.GetJsonAsync(path, readKey ?? stack.ReadKey, stack.Http);
}
