using System.Net;
using System.Text.Json;

namespace Ingest.Tests.Integration.Api;

/// <summary>Where a key may sit and which one wins, as authentication reads the headers and the query and the endpoint the body.</summary>
public sealed class When_a_request_carries_a_key
{
    readonly ApiHost _api = new();
    HttpClient _client = null!;
    string _key = null!, _readKey = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        (_, _key, _readKey) = await TestSources.CreateAsync();
        _client = await _api.StartAsync(_key);
    }

    /// <summary>Disposes the clients it made too.</summary>
    [OneTimeTearDown]
    public void Stop() => _api.Dispose();

    static readonly object Event = new { userId = "u1", @event = "Keyed" };

    async Task<(HttpStatusCode Status, string? Title)> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await _client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, body.Length == 0 ? null : JsonDocument.Parse(body).RootElement.TryGetProperty("title", out var t) ? t.GetString() : null);
        }
    }

    [Test]
    public async Task A_write_key_in_a_bearer_header_is_accepted()
    {
        var request = ApiHost.Post("/v1/track", Event);
        request.Headers.Authorization = new("Bearer", _key);
        Assert.That(await SendAsync(request), Is.EqualTo((HttpStatusCode.OK, (string?)null)));
    }

    [Test]
    public async Task A_write_key_in_the_query_opens_the_legacy_endpoint()
    {
        var (status, title) = await SendAsync(ApiHost.Post($"/analytics?writeKey={_key}",
            new { product = 1, pennkey = "u1", timestamp = 1_763_800_000, data = new[] { new { key = "k", value = "v" } } }));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), title);
    }

    [Test]
    public async Task A_header_key_wins_over_the_body_so_an_unknown_one_gets_401()
    {
        var (status, title) = await SendAsync(ApiHost.Post("/v1/track", new { userId = "u1", @event = "Keyed", writeKey = _key }, "wk_not-a-real-key"));
        Assert.That((status, title), Is.EqualTo((HttpStatusCode.Unauthorized, "Unknown write key")));
    }

    [Test]
    public async Task A_read_key_in_the_body_gets_403_not_a_write_key()
    {
        var (status, title) = await SendAsync(ApiHost.Post("/v1/track", new { userId = "u1", @event = "Keyed", writeKey = _readKey }));
        Assert.That((status, title), Is.EqualTo((HttpStatusCode.Forbidden, "Not a write key")));
    }

    [Test]
    public async Task A_body_without_a_key_gets_401_missing_write_key_after_its_json_is_checked()
    {
        Assert.That(await SendAsync(ApiHost.Post("/v1/track", Event)), Is.EqualTo((HttpStatusCode.Unauthorized, "Missing write key")));
        Assert.That((await SendAsync(ApiHost.Post("/v1/track", """{"userId": """))).Status, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task A_read_key_in_a_url_is_not_taken_and_the_401_carries_a_bearer_challenge()
    {
        using var response = await _client.GetAsync($"/v1/events?writeKey={_readKey}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer realm=\"ingest\""));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        request.Headers.Authorization = new("Bearer", _readKey);
        Assert.That(await SendAsync(request), Is.EqualTo((HttpStatusCode.OK, (string?)null)));
    }
}
