using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Ingest.Api.Tracking;

/// <summary>
/// The proxies whose X-Forwarded-For the API believes (ASP.NET Core's forwarded headers middleware), for the client
/// IP it records in <c>context.ip</c>. None by default: the header is anyone's to write, so only a load balancer
/// known by its address may name the client; without one the connection's own address is the client's.
/// </summary>
public sealed class TrustedProxyOptions : IValidatableObject
{
    public const string Section = "Ingest:ForwardedHeaders";

    /// <summary>Addresses of trusted proxies, e.g. 10.0.0.5 or fd00::5.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR notation, e.g. 172.28.0.0/16.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many X-Forwarded-For entries, from the right, are read: one per trusted proxy in front of the API.</summary>
    [Range(1, 16)]
    public int ForwardLimit { get; set; } = 1;

    public bool Any => KnownProxies.Length > 0 || KnownNetworks.Length > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
            yield return new($"{Section}:{nameof(KnownProxies)}: '{proxy}' is not an IP address.", [nameof(KnownProxies)]);
        foreach (var network in KnownNetworks.Where(n => !IPNetwork.TryParse(n, out _)))
            yield return new($"{Section}:{nameof(KnownNetworks)}: '{network}' is not a network in CIDR notation (e.g. 172.28.0.0/16).", [nameof(KnownNetworks)]);
    }
}
