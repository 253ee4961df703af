using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Ingest.Tests.Integration.Queries;

/// <summary>Read endpoints are opened by read keys only: every route, with each kind of wrong key.</summary>
public sealed class When_the_key_is_not_a_read_key
{
    static readonly string[] Routes = ["/v1/events", "/v1/events/some-message", "/v1/events/stream", "/v1/stats/events", "/v1/stats/users", "/v1/transactions", "/v1/quarantine", "/v1/source", "/v1/pipeline", "/v1/transactions/per-minute", "/v1/privacy/summary"];

    string _writeKey = null!;
    string _readKey = null!;

    [OneTimeSetUp]
    public async Task Keys() => (_, _writeKey, _readKey) = await ReadSide.CreateSourceAsync();

    [TestCaseSource(nameof(Routes))]
    public async Task A_write_key_gets_403_saying_a_read_key_is_needed(string route)
    {
        using var response = await ReadSide.Client.SendAsync(ReadSide.Get(route, _writeKey));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), body);
        Assert.That(body, Does.Contain("Not a read key"));
    }

    [Test]
    public async Task A_write_key_cannot_replay_either()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/quarantine/1/replay") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", _writeKey) } };
        using var response = await ReadSide.Client.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [TestCaseSource(nameof(Routes))]
    public async Task No_key_gets_401(string route)
    {
        using var response = await ReadSide.Client.GetAsync(route);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Missing read key"));
    }

    [Test]
    public async Task An_unknown_key_gets_401()
    {
        using var response = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/events", "rk_not-a-key-at-all"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Unknown read key"));
    }

    [Test]
    public async Task The_read_key_as_http_basic_user_name_is_accepted()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_readKey + ":"))) },
        };
        using var response = await ReadSide.Client.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }
}
