using Microsoft.Extensions.FileProviders;

// In the root namespace, as ProblemResponses, so Program.cs needs no extra using for its line.
namespace Ingest.Api;

/// <summary>
/// The dashboard: static files (HTML, CSS, JavaScript modules and the vendored uPlot) embedded in this assembly and
/// served under /dashboard/, with no build step. The page holds no data and no key: it asks the read API with the read
/// key the user signs in with (Bearer, kept in the tab's session storage), so it sees exactly what that key may read.
/// Every response carries a Content-Security-Policy that allows scripts, styles and connections to this origin only
/// (no inline script, no eval, no CDN) and forbids framing.
/// </summary>
public static class DashboardExtensions
{
    public const string Path = "/dashboard";

    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// A branch of its own: every other request (the ingest path above all) pays one path-prefix check, not the two
    /// file middlewares; within it, what is not a file is 404.
    /// </summary>
    public static WebApplication UseDashboard(this WebApplication app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(DashboardExtensions).Assembly, "Dashboard/site");
        app.Map(Path, dashboard =>
        {
            dashboard.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            dashboard.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                OnPrepareResponse = context =>
                {
                    var headers = context.Context.Response.Headers;
                    headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    headers["Referrer-Policy"] = "no-referrer";
                    // The files change with the build, and carry no version in their names.
                    headers.CacheControl = "no-cache";
                },
            });
        });
        return app;
    }
}
