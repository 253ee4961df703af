using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Playwright;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>
/// One headless Chromium for every browser test of the run, started by the first test that asks for a page and closed
/// after the last. It is Debian's /usr/bin/chromium (deploy/test.sh installs it), driven by Playwright, since
/// Playwright's own browser download cannot run here. Each page gets a context of its own (cookies, local and session
/// storage), and its console errors and uncaught page errors are kept for <see cref="ErrorsOf"/>: a Content-Security-Policy
/// violation shows up there as a console error, and so does any failed request, /favicon.ico included (Chromium asks
/// for it by itself unless the page declares an icon, and reports its 404 only the first time in the browser's life).
/// Errors come as they happen: ask after the page has settled (<c>WaitUntilState.NetworkIdle</c>), not straight after
/// the navigation.
/// </summary>
[SetUpFixture]
public sealed class Browser
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>
    /// Headless, and without the background traffic (component updates, sync, safe browsing lists) that this closed
    /// network refuses and that a test does not want anyway.
    /// </summary>
    static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    static readonly Lock Gate = new();
    static readonly ConditionalWeakTable<IPage, ConcurrentQueue<string>> Errors = [];
    static Task<(IPlaywright Playwright, IBrowser Chromium)>? _started;

    /// <summary>Where <see cref="ScreenshotAsync"/> saves (git-ignored).</summary>
    public static string ScreenshotFolder => Path.Combine(TestStack.RepoRoot, ".local", "dashboard-screenshots");

    /// <summary>
    /// A page in a fresh browser context at a <paramref name="width"/> x <paramref name="height"/> viewport, whose
    /// relative URLs resolve against <paramref name="baseUrl"/> (<c>page.GotoAsync("/dashboard/")</c>). Close it with
    /// <c>page.Context.CloseAsync()</c>; any left open close with the browser.
    /// </summary>
    public static async Task<IPage> NewPageAsync(Uri baseUrl, int width, int height)
    {
        var (_, chromium) = await StartedAsync();
        var context = await chromium.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var errors = Errors.GetValue(page, _ => new ConcurrentQueue<string>());
        page.Console += (_, message) =>
        {
            if (message.Type == "error") errors.Enqueue($"console error at {message.Location}: {message.Text}");
        };
        page.PageError += (_, error) => errors.Enqueue($"page error: {error}");
        return page;
    }

    /// <summary>The console errors and uncaught errors of <paramref name="page"/> so far, in the order they happened.</summary>
    public static IReadOnlyList<string> ErrorsOf(IPage page) => Errors.TryGetValue(page, out var errors) ? [.. errors] : [];

    /// <summary>
    /// Saves the whole page as <c>.local/dashboard-screenshots/&lt;name&gt;-&lt;width&gt;x&lt;height&gt;.png</c> (the viewport's
    /// size) and returns the file's path.
    /// </summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var viewport = page.ViewportSize ?? throw new InvalidOperationException("the page has no fixed viewport");
        var path = Path.Combine(Directory.CreateDirectory(ScreenshotFolder).FullName, $"{name}-{viewport.Width}x{viewport.Height}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    [OneTimeTearDown]
    public async Task CloseChromium()
    {
        Task<(IPlaywright, IBrowser)>? started;
        lock (Gate) (started, _started) = (_started, null);
        if (started is null) return;
        try
        {
            var (playwright, chromium) = await started;
            await chromium.DisposeAsync();
            playwright.Dispose();
        }
        catch (Exception)
        {
            // it never started: the tests that asked for it have already failed with the reason
        }
    }

    static Task<(IPlaywright, IBrowser)> StartedAsync()
    {
        lock (Gate) return _started ??= StartAsync();
    }

    static async Task<(IPlaywright, IBrowser)> StartAsync()
    {
        if (!File.Exists(ChromiumPath)) throw new InvalidOperationException($"{ChromiumPath} is missing: deploy/test.sh installs Debian's chromium package");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ChromiumArgs,
            });
            return (playwright, chromium);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }
}
