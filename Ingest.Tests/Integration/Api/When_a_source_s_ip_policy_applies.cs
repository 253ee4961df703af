using System.Net;
using System.Text.Json;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// Three sources, one per policy (anonymize by being left at the default), posting through one API from an address
/// the test gives the connection. What is checked is the broker message, as the worker will store it.
/// </summary>
public sealed class When_a_source_s_ip_policy_applies
{
    static readonly IPAddress Client = IPAddress.Parse("203.0.113.45");
    ApiHost _api = null!;
    readonly Dictionary<string, string> _keys = [];

    [OneTimeSetUp]
    public async Task Start()
    {
        foreach (var policy in new[] { "keep", "anonymize", "drop" })
            _keys[policy] = (await IpSources.CreateAsync(policy == "anonymize" ? null : policy)).WriteKey;
        _api = new ApiHost();
        await _api.StartAsync(_keys["keep"]);
    }

    [OneTimeTearDown]
    public void Stop() => _api.Dispose();

    async Task<JsonElement> PostOneAsync(string policy, IPAddress? peer, object body, string path = "/v1/track")
    {
        var (status, answer) = await _api.PostFromAsync(peer, path, body, _keys[policy]);
        Assert.That(status, Is.EqualTo(200), answer);
        return (await _api.EventsOnQueueAsync(1)).Single();
    }

    static string? Ip(JsonElement e) =>
        e.TryGetProperty("context", out var c) && c.ValueKind == JsonValueKind.Object && c.TryGetProperty("ip", out var ip) ? ip.ToString() : null;

    [TestCase("keep", "203.0.113.45")]
    [TestCase("anonymize", "203.0.113.0")]
    [TestCase("drop", null)]
    public async Task The_connection_s_address_is_recorded_as_the_policy_says(string policy, string? expected)
    {
        var e = await PostOneAsync(policy, Client, new { userId = "u1", @event = "Viewed", context = new { library = new { name = "test" } } });

        Assert.That(Ip(e), Is.EqualTo(expected));
        Assert.That(e.GetProperty("context").GetProperty("library").GetProperty("name").GetString(), Is.EqualTo("test"), "the rest of the context is kept");
    }

    [TestCase("keep", "2001:db8:85a3::8a2e:370:7334")]
    [TestCase("anonymize", "2001:db8:85a3::")]
    [TestCase("drop", null)]
    public async Task An_IPv6_connection_is_recorded_as_the_policy_says(string policy, string? expected)
    {
        var e = await PostOneAsync(policy, IPAddress.Parse("2001:db8:85a3::8a2e:370:7334"), new { userId = "u1", @event = "Viewed" });

        Assert.That(Ip(e), Is.EqualTo(expected));
    }

    [TestCase("keep", "198.51.100.77", "198.51.100.77")]
    [TestCase("anonymize", "198.51.100.77", "198.51.100.0")]
    [TestCase("drop", "198.51.100.77", null)]
    [TestCase("anonymize", "2001:db8:1:2:3:4:5:6", "2001:db8:1::")]
    [TestCase("keep", "not-an-ip", "not-an-ip")]
    [TestCase("anonymize", "not-an-ip", null)]
    [TestCase("drop", "not-an-ip", null)]
    public async Task A_client_sent_ip_is_kept_over_the_connection_s_and_the_policy_applies_to_it(string policy, string sent, string? expected)
    {
        var e = await PostOneAsync(policy, Client, new { userId = "u1", @event = "Viewed", context = new { ip = sent } });

        Assert.That(Ip(e), Is.EqualTo(expected));
    }

    [Test]
    public async Task A_batch_s_messages_get_the_address_under_the_policy_each_keeping_its_own()
    {
        var (status, answer) = await _api.PostFromAsync(Client, "/v1/batch", new
        {
            context = new { library = new { name = "analytics-node" } },
            batch = new object[]
            {
                new { type = "track", userId = "u1", @event = "Own context" , context = new { page = new { path = "/" } } },
                new { type = "track", userId = "u2", @event = "No context" },
                new { type = "track", userId = "u3", @event = "Own ip", context = new { ip = "198.51.100.77" } },
            },
        }, _keys["anonymize"]);

        Assert.That(status, Is.EqualTo(200), answer);
        var events = (await _api.EventsOnQueueAsync(3)).ToDictionary(e => e.GetProperty("event").GetString()!);
        Assert.That(Ip(events["Own context"]), Is.EqualTo("203.0.113.0"));
        Assert.That(events["Own context"].GetProperty("context").GetProperty("page").GetProperty("path").GetString(), Is.EqualTo("/"));
        Assert.That(Ip(events["No context"]), Is.EqualTo("203.0.113.0"));
        Assert.That(Ip(events["Own ip"]), Is.EqualTo("198.51.100.0"));
        Assert.That(events.Values.Select(e => e.GetProperty("context").GetProperty("library").GetProperty("name").GetString()), Is.All.EqualTo("analytics-node"));
    }

    [Test]
    public async Task A_batch_context_s_own_ip_is_anonymized_for_every_message()
    {
        var (status, answer) = await _api.PostFromAsync(Client, "/v1/batch", new
        {
            context = new { ip = "198.51.100.77" },
            batch = new object[] { new { type = "track", userId = "u1", @event = "A" }, new { type = "track", userId = "u2", @event = "B", context = new { locale = "en" } } },
        }, _keys["anonymize"]);

        Assert.That(status, Is.EqualTo(200), answer);
        Assert.That((await _api.EventsOnQueueAsync(2)).Select(Ip), Is.All.EqualTo("198.51.100.0"));
    }

    [Test]
    public async Task The_seeds_format_gets_the_address_under_the_policy()
    {
        var e = await PostOneAsync("anonymize", Client, new { product = 1, pennkey = "alice", timestamp = 1_763_800_000, data = new[] { new { key = "opened", value = "x" } } }, "/analytics");

        Assert.That(Ip(e), Is.EqualTo("203.0.113.0"));
    }

    [Test]
    public async Task A_connection_without_an_address_records_none()
    {
        var e = await PostOneAsync("keep", null, new { userId = "u1", @event = "Viewed" });

        Assert.That(Ip(e), Is.Null);
    }
}
