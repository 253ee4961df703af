using System.Security.Claims;
using Ingest.Api.Tracking;
using Ingest.Database.Keys;
using Ingest.ServiceDefaults.Logging;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ingest.Api.Keys;

/// <summary>Why a request's key opens nothing; each answers its own problem (<see cref="KeyAuthentication.Refusal"/>).</summary>
public enum KeyFailure { Missing, NotLoaded, Unknown, WrongScope }

/// <summary>
/// Keys as ASP.NET Core authentication: <see cref="KeyAuthenticationHandler"/> turns the key of a request into a
/// principal with its source and scope, and each endpoint group asks for the <see cref="Write"/>,
/// <see cref="Read"/> or <see cref="Admin"/> policy. Endpoints read the source with <see cref="SourceId"/>.
/// </summary>
public static class KeyAuthentication
{
    public const string Scheme = "Key";
    public const string Write = "write";
    public const string Read = "read";
    public const string Admin = "admin";

    public const string SourceClaim = LoggingExtensions.SourceClaim;
    public const string ScopeClaim = "scope";
    public const string OriginClaim = "origin";
    public const string IpPolicyClaim = "ip_policy";
    public const string KeyPrefixClaim = "key_prefix";

    /// <summary>
    /// The key store (loaded from PostgreSQL in the background, never on the request path), the scheme and the two
    /// policies. A write request that presents no key in its headers or query may still carry
    /// one in its body (Segment's spec allows it), so the write policy lets it through to the endpoint, which reads
    /// the body and then authenticates it with <see cref="KeyStore.Authenticate"/>.
    /// </summary>
    public static IHostApplicationBuilder AddKeyAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<KeyOptions>().BindConfiguration(KeyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<KeyStore>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KeyStore>());
        builder.Services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, KeyAuthenticationHandler>(Scheme, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Write, p => p.RequireAssertion(c => c.User.HasClaim(ScopeClaim, Write)
                || c.Resource is HttpContext http && KeyAuthenticationHandler.PresentedKey(http.Request, queryAllowed: true) is null))
            .AddPolicy(Read, p => p.RequireClaim(ScopeClaim, Read))
            .AddPolicy(Admin, p => p.RequireClaim(ScopeClaim, Admin));
        return builder;
    }

    /// <summary>The source of the key that authenticated this request.</summary>
    public static string SourceId(this ClaimsPrincipal user) => user.FindFirstValue(SourceClaim)!;

    /// <summary>Whether the key's source accepts requests from this browser origin.</summary>
    public static bool AllowsOrigin(this ClaimsPrincipal user, string origin) =>
        user.FindAll(OriginClaim).Any(c => c.Value == "*" || c.Value.Equals(origin, StringComparison.OrdinalIgnoreCase));

    /// <summary>What the key's source stores of a client's IP; anonymize for a principal that does not say (the default).</summary>
    public static IpPolicy IpPolicy(this ClaimsPrincipal user) => user.FindFirstValue(IpPolicyClaim) switch
    {
        nameof(Tracking.IpPolicy.Keep) => Tracking.IpPolicy.Keep,
        nameof(Tracking.IpPolicy.Drop) => Tracking.IpPolicy.Drop,
        _ => Tracking.IpPolicy.Anonymize,
    };

    /// <summary>The key's first characters, as its record names it (<see cref="ApiKey.Prefix"/>): who made a privacy request.</summary>
    public static string KeyPrefix(this ClaimsPrincipal user) => user.FindFirstValue(KeyPrefixClaim)!;

    /// <param name="presented">The key as the request presented it; only its prefix is kept.</param>
    public static ClaimsPrincipal Principal(SourceKey key, string presented) => new(new ClaimsIdentity(
        [new(SourceClaim, key.SourceId), new(ScopeClaim, key.Scope), new(IpPolicyClaim, key.IpPolicy.ToString()), new(KeyPrefixClaim, ApiKey.Prefix(presented)),
         .. key.AllowedOrigins.Select(o => new Claim(OriginClaim, o))], Scheme));

    /// <summary>The problem each failure answers, worded for the scope the endpoint needs; Retry-After while keys are not loaded.</summary>
    public static ProblemHttpResult Refusal(HttpResponse response, KeyFailure failure, string scope, TimeSpan retryAfter)
    {
        if (failure == KeyFailure.NotLoaded) RetryAfter.Set(response, retryAfter);
        var (status, title, detail) = (failure, scope) switch
        {
            (KeyFailure.Missing, Write) => (401, "Missing write key", "Send the write key as HTTP Basic user name, as a Bearer token, as writeKey in the body or as ?writeKey=."),
            (KeyFailure.Missing, _) => (401, $"Missing {scope} key", $"Send {(scope == Admin ? "an" : "a")} {scope} key as a Bearer token or as the HTTP Basic user name."),
            (KeyFailure.NotLoaded, _) => (503, "Keys not loaded yet", "The API has not loaded its keys yet; retry shortly."),
            (KeyFailure.Unknown, _) => (401, $"Unknown {scope} key", $"The {scope} key is not known or was revoked."),
            (KeyFailure.WrongScope, Write) => (403, "Not a write key", "This key is a read key or an admin key; sending events needs a write key."),
            (KeyFailure.WrongScope, Admin) => (403, "Not an admin key", "Privacy requests need an admin key of the source; write and read keys cannot make them."),
            (KeyFailure.WrongScope, _) => (403, "Not a read key", "This key is a write key or an admin key; the read side needs a read key of the same source."),
            _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, null),
        };
        // RFC 9110 wants a challenge with every 401; Bearer, not Basic, so that a browser's fetch never pops up a password dialog.
        if (status == 401) response.Headers.WWWAuthenticate = "Bearer realm=\"ingest\"";
        return TypedResults.Problem(detail, statusCode: status, title: title);
    }
}
