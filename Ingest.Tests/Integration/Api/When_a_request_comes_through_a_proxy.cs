using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// X-Forwarded-For names the client only when the connection comes from a configured proxy (10.0.0.5 here, as nginx's
/// fixed address is in docker-compose.yml). The test gives each request its peer address, since the in-process server
/// has no socket; the forwarded headers middleware judges it exactly as it would Kestrel's.
/// </summary>
public sealed class When_a_request_comes_through_a_proxy
{
    static readonly IPAddress Proxy = IPAddress.Parse("10.0.0.5");
    ApiHost _api = null!;
    string _key = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        (_, _key) = await IpSources.CreateAsync("keep");
        _api = new ApiHost(new() { ["Ingest:ForwardedHeaders:KnownProxies:0"] = Proxy.ToString() });
        await _api.StartAsync(_key);
    }

    [OneTimeTearDown]
    public void Stop() => _api.Dispose();

    static async Task<string?> IpOfAsync(ApiHost api, string key, IPAddress peer, string forwardedFor)
    {
        var (status, answer) = await api.PostFromAsync(peer, "/v1/track", new { userId = "u1", @event = "Proxied" }, key, new() { ["X-Forwarded-For"] = forwardedFor });
        Assert.That(status, Is.EqualTo(200), answer);
        var e = (await api.EventsOnQueueAsync(1)).Single();
        return e.TryGetProperty("context", out var context) && context.ValueKind == JsonValueKind.Object && context.TryGetProperty("ip", out var ip) ? ip.GetString() : null;
    }

    [Test]
    public async Task The_trusted_proxy_s_forwarded_address_is_the_client_s() =>
        Assert.That(await IpOfAsync(_api, _key, Proxy, "198.51.100.1"), Is.EqualTo("198.51.100.1"));

    [Test]
    public async Task Only_the_entry_the_proxy_appended_is_believed_not_one_the_client_wrote_before_it() =>
        Assert.That(await IpOfAsync(_api, _key, Proxy, "192.0.2.66, 198.51.100.1"), Is.EqualTo("198.51.100.1"));

    [Test]
    public async Task An_IPv6_client_behind_the_proxy_is_recorded() =>
        Assert.That(await IpOfAsync(_api, _key, Proxy, "2001:db8::42"), Is.EqualTo("2001:db8::42"));

    [Test]
    public async Task A_spoofed_header_from_any_other_peer_is_ignored() =>
        Assert.That(await IpOfAsync(_api, _key, IPAddress.Parse("203.0.113.45"), "198.51.100.1"), Is.EqualTo("203.0.113.45"));

    [Test]
    public async Task Without_configured_proxies_not_even_loopback_is_trusted()
    {
        // ASP.NET Core's own defaults trust 127.0.0.0/8 and ::1; a local process must not be able to name any client.
        var (_, key) = await IpSources.CreateAsync("keep");
        using var api = new ApiHost();
        await api.StartAsync(key);

        Assert.That(await IpOfAsync(api, key, IPAddress.Loopback, "198.51.100.1"), Is.EqualTo("127.0.0.1"));
        Assert.That(await IpOfAsync(api, key, IPAddress.IPv6Loopback, "198.51.100.1"), Is.EqualTo("::1"));
    }

    [TestCase("KnownProxies", "nginx")]
    [TestCase("KnownNetworks", "172.28.0.0")]
    [TestCase("ForwardLimit", "0")]
    public void A_bad_setting_stops_the_API_at_start_naming_it(string setting, string value)
    {
        var key = setting == "ForwardLimit" ? setting : $"{setting}:0";
        using var api = new ApiHost(new() { [$"Ingest:ForwardedHeaders:{key}"] = value });

        var failure = Assert.Catch(() => api.CreateClient().Dispose());

        Assert.That(failure, Is.InstanceOf<OptionsValidationException>().Or.InnerException.InstanceOf<OptionsValidationException>());
        Assert.That(failure!.ToString(), Does.Contain(setting));
    }
}
