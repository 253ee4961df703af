using System.Net;
using System.Text.Json;
using Ingest.Api.Tracking;

namespace Ingest.Tests.Unit.Api;

public sealed class When_an_ip_is_anonymized
{
    [TestCase("203.0.113.45", "203.0.113.0")]
    [TestCase("10.1.2.255", "10.1.2.0")]
    [TestCase("203.0.113.0", "203.0.113.0")]
    public void An_IPv4_address_loses_its_last_octet(string address, string expected) =>
        Assert.That(ClientIp.Anonymize(IPAddress.Parse(address)).ToString(), Is.EqualTo(expected));

    [TestCase("2001:db8:85a3:1234:5678:8a2e:370:7334", "2001:db8:85a3::")]
    [TestCase("2a00:1450:4001:82a::200e", "2a00:1450:4001::")]
    [TestCase("fe80::1%2", "fe80::")]
    [TestCase("::1", "::")]
    public void An_IPv6_address_keeps_only_its_first_48_bits(string address, string expected) =>
        Assert.That(ClientIp.Anonymize(IPAddress.Parse(address)).ToString(), Is.EqualTo(expected));

    [Test]
    public void An_IPv4_mapped_IPv6_address_is_anonymized_and_written_as_IPv4() =>
        Assert.That(ClientIp.Anonymize(IPAddress.Parse("::ffff:203.0.113.45")).ToString(), Is.EqualTo("203.0.113.0"));

    [TestCase(IpPolicy.Keep, "::ffff:203.0.113.45", "203.0.113.45")]
    [TestCase(IpPolicy.Anonymize, "203.0.113.45", "203.0.113.0")]
    [TestCase(IpPolicy.Drop, "203.0.113.45", null)]
    public void The_connection_s_address_is_recorded_as_the_policy_says(IpPolicy policy, string address, string? expected) =>
        Assert.That(ClientIp.Record(policy, IPAddress.Parse(address)), Is.EqualTo(expected));

    [TestCase("not an ip")]
    [TestCase("1")]
    [TestCase("0x7f.1")]
    [TestCase("203.0.113.45:443")]
    [TestCase("203.0.113.45, 10.0.0.1")]
    [TestCase("[2001:db8::1]")]
    [TestCase("10.0.0.0/8")]
    [TestCase("")]
    public void Text_that_is_not_an_address_is_not_parsed(string text) =>
        Assert.That(ClientIp.TryParse(text, out _), Is.False);

    [TestCase("\"not an ip\"")]
    [TestCase("12345")]
    [TestCase("{\"v4\":\"203.0.113.45\"}")]
    public void A_sent_value_that_is_not_an_address_is_removed_when_anonymizing_and_kept_as_sent_when_keeping(string json)
    {
        var sent = JsonDocument.Parse(json).RootElement;

        Assert.That(ClientIp.MustRewrite(IpPolicy.Anonymize, sent, out var anonymized), Is.True);
        Assert.That(anonymized, Is.Null, "removed");
        Assert.That(ClientIp.MustRewrite(IpPolicy.Keep, sent, out _), Is.False);
        Assert.That(ClientIp.MustRewrite(IpPolicy.Drop, sent, out var dropped), Is.True);
        Assert.That(dropped, Is.Null);
    }

    [Test]
    public void A_sent_address_already_anonymized_or_null_is_left_as_it_is()
    {
        Assert.That(ClientIp.MustRewrite(IpPolicy.Anonymize, JsonDocument.Parse("\"203.0.113.0\"").RootElement, out _), Is.False);
        Assert.That(ClientIp.MustRewrite(IpPolicy.Anonymize, JsonDocument.Parse("null").RootElement, out _), Is.False);
        Assert.That(ClientIp.MustRewrite(IpPolicy.Anonymize, JsonDocument.Parse("\"2001:db8::1\"").RootElement, out var v6), Is.True);
        Assert.That(v6, Is.EqualTo("2001:db8::"));
    }
}
