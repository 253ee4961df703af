using System.Net;
using Ingest.Tests.Integration.Api;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>The dashboard's files as any HTTP client gets them from the API: each with its type and the page's policy, nothing else under the path.</summary>
public sealed class When_the_dashboard_s_files_are_fetched : ApiTest
{
    HttpClient _http = null!;

    [OneTimeSetUp]
    public void CreateClient() => _http = Api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [OneTimeTearDown]
    public void Stop() => _http.Dispose();

    [TestCase("/dashboard/", "text/html")]
    [TestCase("/dashboard/index.html", "text/html")]
    [TestCase("/dashboard/app.js", "text/javascript")]
    [TestCase("/dashboard/dashboard.css", "text/css")]
    [TestCase("/dashboard/vendor/uplot/uPlot.iife.min.js", "text/javascript")]
    [TestCase("/dashboard/vendor/uplot/LICENSE.txt", "text/plain")]
    public async Task Each_is_served_with_its_type_and_the_content_security_policy(string path, string type)
    {
        using var response = await _http.GetAsync(path);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), path);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo(type));
        Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Is.EqualTo(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));
        Assert.That(response.Headers.GetValues("Referrer-Policy").Single(), Is.EqualTo("no-referrer"));
    }

    [Test]
    public async Task The_path_without_its_slash_is_redirected_to_it()
    {
        using var response = await _http.GetAsync("/dashboard");
        Assert.That((int)response.StatusCode, Is.EqualTo(301));
        Assert.That(response.Headers.Location?.OriginalString, Does.EndWith("/dashboard/"));
    }

    [TestCase("/dashboard/nothing.js")]
    [TestCase("/dashboard/../appsettings.json")]
    [TestCase("/dashboard/%2e%2e/appsettings.json")]
    [TestCase("/dashboard/vendor/../../Ingest.Api.dll")]
    public async Task Anything_else_is_not_found(string path)
    {
        using var response = await _http.GetAsync(path);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), path);
    }

    [Test]
    public async Task The_vendored_chart_library_carries_its_licence()
    {
        var licence = await _http.GetStringAsync("/dashboard/vendor/uplot/LICENSE.txt");
        Assert.That(licence, Does.StartWith("The MIT License (MIT)").And.Contain("Leon Sorokin"));
        var library = await _http.GetStringAsync("/dashboard/vendor/uplot/uPlot.iife.min.js");
        Assert.That(library, Does.Contain("uPlot"));
    }
}
