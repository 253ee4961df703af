using Dapper;
using Ingest.Database.Keys;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>The dashboard's door: a read key opens it and names its source; a write key or an unknown key does not.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_a_user_signs_in_to_the_dashboard
{
    const string SourceName = "Shop <b>web</b> & app";

    DashboardStack _stack = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _stack = await DashboardStack.StartAsync();
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        await conn.ExecuteAsync("update sources set name = @SourceName where id = @SourceId", new { SourceName, _stack.SourceId });
    }

    [OneTimeTearDown]
    public async Task Stop() => await _stack.DisposeAsync();

    [Test]
    public async Task The_source_s_name_is_shown_and_the_key_is_kept_in_session_storage_and_sent_in_a_header_only()
    {
        var page = await DashboardPage.OpenAsync(_stack.Api.Url);
        var requests = new List<IRequest>();
        page.Request += (_, request) => requests.Add(request);

        await DashboardPage.SignInAsync(page, _stack.ReadKey);

        await Expect(page.Locator("#source-name")).ToHaveTextAsync(SourceName);
        await Expect(page.Locator("#source-name b")).ToHaveCountAsync(0);
        Assert.That(await page.EvaluateAsync<string>("sessionStorage.getItem('ingest.readKey')"), Is.EqualTo(_stack.ReadKey));
        Assert.That(await page.EvaluateAsync<int>("localStorage.length"), Is.Zero, "nothing in local storage");
        Assert.That(await page.Context.CookiesAsync(), Is.Empty, "no cookie");
        var api = requests.Where(r => r.Url.Contains("/v1/", StringComparison.Ordinal)).ToList();
        Assert.That(api, Is.Not.Empty);
        Assert.That(api.Select(r => r.Url), Has.None.Contains(_stack.ReadKey), "the key is never in a URL");
        Assert.That(api.Select(r => r.Headers.GetValueOrDefault("authorization")), Has.All.EqualTo($"Bearer {_stack.ReadKey}"));
        Assert.That(page.Url, Does.Not.Contain(_stack.ReadKey));

        await page.ReloadAsync();
        await Expect(page.Locator("#source-name")).ToHaveTextAsync(SourceName, new() { Timeout = 10_000 });

        await page.ClickAsync("#sign-out");
        await Expect(page.Locator("#sign-in")).ToBeVisibleAsync();
        Assert.That(await page.EvaluateAsync<string?>("sessionStorage.getItem('ingest.readKey')"), Is.Null, "signing out forgets the key");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task A_write_key_is_refused_with_a_message_that_says_a_read_key_is_needed()
    {
        var page = await DashboardPage.OpenAsync(_stack.Api.Url);
        await DashboardPage.SignInAsync(page, _stack.WriteKey);

        await Expect(page.Locator("#sign-in-error")).ToContainTextAsync("This is a write key");
        await Expect(page.Locator("#sign-in-error")).ToContainTextAsync("needs a read key");
        await Expect(page.Locator("#app")).ToBeHiddenAsync();
        Assert.That(await page.EvaluateAsync<string?>("sessionStorage.getItem('ingest.readKey')"), Is.Null, "a refused key is not kept");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task An_unknown_key_is_refused()
    {
        var page = await DashboardPage.OpenAsync(_stack.Api.Url);
        await DashboardPage.SignInAsync(page, "rk_" + new string('x', 43));

        await Expect(page.Locator("#sign-in-error")).ToContainTextAsync("not known, or was revoked");
        await Expect(page.Locator("#app")).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task The_page_carries_a_content_security_policy_with_no_inline_script_and_runs_within_it()
    {
        var page = await Browser.NewPageAsync(_stack.Api.Url, 1280, 800);
        var response = await page.GotoAsync("/dashboard/");
        var policy = await response!.HeaderValueAsync("content-security-policy");
        Assert.That(policy, Does.Contain("script-src 'self'").And.Contain("default-src 'none'").And.Contain("frame-ancestors 'none'"));
        Assert.That(policy, Does.Not.Contain("unsafe-inline").And.Not.Contain("unsafe-eval").And.Not.Contain("http"), "no inline script, no eval, no other origin");
        Assert.That(await page.EvaluateAsync<int>("[...document.scripts].filter(s => !s.src).length"), Is.Zero, "every script is a file");
        Assert.That(await page.EvaluateAsync<string[]>("""[...document.querySelectorAll('script[src], link[href]:not([href^="data:"])')].map(e => e.src || e.href)"""),
            Has.All.StartWith(_stack.Api.Url.ToString()), "every script, style and icon comes from the API itself: no CDN");

        await DashboardPage.SignInAsync(page, _stack.ReadKey);
        foreach (var view in new[] { "overview", "live", "explore", "pipeline" })
        {
            await DashboardPage.ViewAsync(page, view);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        }
        Assert.That(Browser.ErrorsOf(page), Is.Empty, "no console error (a CSP violation is one) and no uncaught error");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task A_key_revoked_while_signed_in_signs_the_user_out_saying_why()
    {
        var reader = await _stack.AddSourceAsync();
        var page = await DashboardPage.SignedInAsync(_stack, reader.ReadKey);

        Assert.That(await KeyRecords.RevokeAsync(TestStack.Database, reader.ReadKey, CancellationToken.None), Is.EqualTo(1));
        await Eventually.HoldsAsync(async t =>
        {
            using var request = Queries.ReadSide.Get("/v1/source", reader.ReadKey);
            using var response = await _stack.Http.SendAsync(request, t);
            return response.StatusCode == System.Net.HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(10), () => "the API to drop the revoked key");
        await page.ClickAsync("nav a[data-view='explore']");

        await Expect(page.Locator("#sign-in")).ToBeVisibleAsync();
        await Expect(page.Locator("#sign-in-error")).ToHaveTextAsync("Signed out: This read key is not known, or was revoked.");
        Assert.That(await page.EvaluateAsync<string?>("sessionStorage.getItem('ingest.readKey')"), Is.Null);
        await page.Context.CloseAsync();
    }
}
