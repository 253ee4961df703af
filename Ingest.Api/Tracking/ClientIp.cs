using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Ingest.Api.Tracking;

/// <summary>
/// A source's <see cref="IpPolicy"/> applied to an address: the connection's, once per request, or one a client sent
/// in <c>context.ip</c>. Anonymizing zeroes an IPv4 address's last octet and an IPv6 address's last 80 bits (the
/// interface identifier and the subnet, leaving the /48 a site is given), as Google Analytics and Matomo do.
/// </summary>
public static class ClientIp
{
    /// <summary>How many leading bytes of an IPv6 address anonymizing keeps: 48 bits.</summary>
    const int KeptIPv6Bytes = 6;

    static readonly System.Buffers.SearchValues<char> DottedQuad = System.Buffers.SearchValues.Create("0123456789.");
    static readonly System.Buffers.SearchValues<char> NotAnAddress = System.Buffers.SearchValues.Create("[]/");

    /// <summary>
    /// The address with its host part zeroed. An IPv4 address mapped into IPv6 (<c>::ffff:203.0.113.45</c>, what a
    /// dual-stack socket reports for an IPv4 client) is anonymized, and written, as the IPv4 address it is.
    /// </summary>
    public static IPAddress Anonymize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        if (address.AddressFamily == AddressFamily.InterNetwork) bytes[3] = 0;
        else bytes[KeptIPv6Bytes..].Clear();
        return new IPAddress(bytes); // a new address: an IPv6 scope id (fe80::1%eth0) names the host's interface, and goes too
    }

    /// <summary>What the policy records of the connection's address: its text, or null for none.</summary>
    public static string? Record(IpPolicy policy, IPAddress? address)
    {
        if (address is null || policy == IpPolicy.Drop) return null;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return (policy == IpPolicy.Keep ? address : Anonymize(address)).ToString();
    }

    /// <summary>
    /// Whether a client-sent <c>context.ip</c> must change under the policy, and into what (null: removed). Keep stores
    /// what was sent, untouched, like any other context field. Anonymize rewrites an address, leaves a JSON null (the
    /// client said "no IP") and removes anything else: what cannot be parsed cannot be anonymized, and may still be an
    /// address in disguise ("203.0.113.45:443", an X-Forwarded-For list). Drop removes it.
    /// </summary>
    public static bool MustRewrite(IpPolicy policy, JsonElement sent, out string? replacement)
    {
        replacement = null;
        switch (policy)
        {
            case IpPolicy.Keep:
                return false;
            case IpPolicy.Drop:
                return true;
            default:
                if (sent.ValueKind == JsonValueKind.Null) return false;
                if (sent.ValueKind != JsonValueKind.String || !TryParse(sent.GetString(), out var address)) return true;
                replacement = Anonymize(address).ToString();
                return !sent.ValueEquals(replacement);
        }
    }

    /// <summary>
    /// An IPv4 address in dotted-quad form, or an IPv6 address. <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
    /// alone also takes "1" (0.0.0.1) or "0x7f.1": no client means those as addresses.
    /// </summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (string.IsNullOrEmpty(text) || text.Length > 64) return false;
        var isIPv6 = text.Contains(':');
        if (!isIPv6 && (text.AsSpan().Count('.') != 3 || text.AsSpan().IndexOfAnyExcept(DottedQuad) >= 0)) return false;
        if (isIPv6 && text.AsSpan().IndexOfAny(NotAnAddress) >= 0) return false; // a URL's host or a network, not an address
        return IPAddress.TryParse(text, out address);
    }
}
