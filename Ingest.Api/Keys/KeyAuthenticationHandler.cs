using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Ingest.Api.Keys;

/// <summary>
/// Reads a request's key from <c>Authorization: Bearer</c>, from HTTP Basic with the key as user name (what Segment's
/// libraries send: <c>writeKey:</c>) or from <c>?writeKey=</c> (beacons cannot set headers; write endpoints only), and finds it in the
/// <see cref="KeyStore"/>. A refusal is a problem worded for the scope the endpoint's policy needs (Exceptionless's
/// ApiKeyAuthenticationHandler is the model).
/// </summary>
public sealed class KeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    KeyStore keys, IOptions<KeyOptions> keyOptions) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PresentedKey(Request, queryAllowed: RequiredScope == KeyAuthentication.Write) is not { } presented)
            return Task.FromResult(AuthenticateResult.NoResult());
        var (key, failure) = keys.Authenticate(presented);
        return Task.FromResult(key is null
            ? AuthenticateResult.Fail(failure.ToString()!)
            : AuthenticateResult.Success(new AuthenticationTicket(KeyAuthentication.Principal(key, presented), Scheme.Name)));
    }

    /// <summary>401 for a missing or unknown key, 503 while keys are not loaded.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var failure = Enum.TryParse<KeyFailure>(result.Failure?.Message, out var f) ? f : KeyFailure.Missing;
        await KeyAuthentication.Refusal(Response, failure, RequiredScope, keyOptions.Value.RefreshInterval).ExecuteAsync(Context);
    }

    /// <summary>403: a key of the other scope.</summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        KeyAuthentication.Refusal(Response, KeyFailure.WrongScope, RequiredScope, keyOptions.Value.RefreshInterval).ExecuteAsync(Context);

    string RequiredScope => Context.GetEndpoint()?.Metadata.GetMetadata<IAuthorizeData>()?.Policy ?? KeyAuthentication.Read;

    /// <summary>
    /// The key of the Authorization header or, for the write side only, of the query string; null when there is none.
    /// A read key is never taken from a URL, which ends up in browser history, proxy logs and Referer headers.
    /// </summary>
    public static string? PresentedKey(HttpRequest request, bool queryAllowed)
    {
        var key = FromAuthorizationHeader(request.Headers.Authorization.ToString()) ?? (queryAllowed ? request.Query["writeKey"].ToString() : "");
        return key.Length > 0 ? key : null;
    }

    static string? FromAuthorizationHeader(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? decoded : decoded[..colon];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
