using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Privacy;

/// <summary>Bad privacy requests and keys of the wrong scope or source: each answered with the problem named, nothing recorded.</summary>
public sealed class When_privacy_requests_are_refused : ApiTest
{
    async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body = null, string? key = null, string? raw = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (raw is not null) request.Content = new StringContent(raw, System.Text.Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    static Dictionary<string, string> One(string kind, string id) => new() { [kind] = id };

    [TestCase("write")]
    [TestCase("read")]
    public async Task A_key_of_another_scope_is_forbidden(string scope)
    {
        var key = scope == "write" ? WriteKey : ReadKey;
        foreach (var (method, path) in new[] { (HttpMethod.Post, "/v1/privacy/requests"), (HttpMethod.Get, "/v1/privacy/requests"), (HttpMethod.Get, $"/v1/privacy/requests/{Guid.NewGuid()}"), (HttpMethod.Get, "/v1/privacy/subjects?userId=a") })
        {
            var (status, body) = await SendAsync(method, path, new { type = "delete", subjects = new[] { One("userId", "a") } }, key);
            Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden), $"{method} {path}");
            Assert.That(body.GetProperty("title").GetString(), Is.EqualTo("Not an admin key"));
        }
    }

    [Test]
    public async Task No_key_or_an_unknown_one_is_unauthorized()
    {
        Assert.That((await SendAsync(HttpMethod.Get, "/v1/privacy/requests")).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await SendAsync(HttpMethod.Get, "/v1/privacy/requests", key: "ak_not-a-key")).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [TestCase("""{"type":"forget","subjects":[{"userId":"a"}]}""", "type")]
    [TestCase("""{"subjects":[{"userId":"a"}]}""", "type")]
    [TestCase("""{"type":"delete"}""", "subjects")]
    [TestCase("""{"type":"delete","subjects":[]}""", "subjects")]
    [TestCase("""{"type":"delete","subjects":{"userId":"a"}}""", "subjects")]
    [TestCase("""{"type":"delete","subjects":[{}]}""", "subjects[0]")]
    [TestCase("""{"type":"delete","subjects":[{"userId":"a"},{"userId":"b","anonymousId":"c"}]}""", "subjects[1]")]
    [TestCase("""{"type":"delete","subjects":[{"userId":""}]}""", "subjects[0]")]
    [TestCase("""{"type":"delete","subjects":[{"userId":42}]}""", "subjects[0]")]
    [TestCase("""{"type":"delete","subjects":["a"]}""", "subjects[0]")]
    [TestCase("""not json""", "")]
    public async Task A_bad_request_is_a_400_naming_the_field(string body, string field)
    {
        var (status, problem) = await SendAsync(HttpMethod.Post, "/v1/privacy/requests", key: AdminKey, raw: body);
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), problem.ToString());
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, $"names {field}: {problem}");
        var (_, list) = await SendAsync(HttpMethod.Get, "/v1/privacy/requests", key: AdminKey);
        Assert.That(list.GetProperty("requests").GetArrayLength(), Is.Zero, "nothing recorded");
    }

    [Test]
    public async Task An_id_longer_than_255_characters_is_refused()
    {
        var (status, problem) = await SendAsync(HttpMethod.Post, "/v1/privacy/requests", new { type = "delete", subjects = new[] { One("anonymousId", new string('x', 256)) } }, AdminKey);
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("errors").GetProperty("subjects[0]")[0].GetString(), Does.Contain("255"));
    }

    [Test]
    public async Task More_than_5000_subjects_are_refused()
    {
        var subjects = Enumerable.Range(0, 5001).Select(i => One("userId", $"u{i}")).ToArray();
        var (status, problem) = await SendAsync(HttpMethod.Post, "/v1/privacy/requests", new { type = "suppress", subjects }, AdminKey);
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem.GetProperty("errors").GetProperty("subjects")[0].GetString(), Does.Contain("5000"));
    }

    [Test]
    public async Task An_unknown_request_id_is_not_found()
    {
        Assert.That((await SendAsync(HttpMethod.Get, $"/v1/privacy/requests/{Guid.NewGuid()}", key: AdminKey)).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await SendAsync(HttpMethod.Get, "/v1/privacy/requests/not-a-guid", key: AdminKey)).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task AnotherSourceId_s_request_is_not_found()
    {
        var (other, _, _) = await TestSources.CreateAsync();
        var otherAdmin = await TestSources.CreateAdminKeyAsync(other);
        await ReadSideKeysLoadedAsync(otherAdmin);
        var (status, created) = await SendAsync(HttpMethod.Post, "/v1/privacy/requests", new { type = "suppress", subjects = new[] { One("userId", "a") } }, otherAdmin);
        Assert.That(status, Is.EqualTo(HttpStatusCode.Accepted), created.ToString());
        var id = created.GetProperty("id").GetGuid();
        Assert.That((await SendAsync(HttpMethod.Get, $"/v1/privacy/requests/{id}", key: otherAdmin)).Status, Is.EqualTo(HttpStatusCode.OK), "its own source sees it");
        Assert.That((await SendAsync(HttpMethod.Get, $"/v1/privacy/requests/{id}", key: AdminKey)).Status, Is.EqualTo(HttpStatusCode.NotFound), "another source does not");
    }

    [Test]
    public async Task The_subjects_query_needs_exactly_one_id()
    {
        Assert.That((await SendAsync(HttpMethod.Get, "/v1/privacy/subjects", key: AdminKey)).Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await SendAsync(HttpMethod.Get, "/v1/privacy/subjects?userId=a&anonymousId=b", key: AdminKey)).Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await SendAsync(HttpMethod.Get, "/v1/privacy/subjects?userId=", key: AdminKey)).Status, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    Task ReadSideKeysLoadedAsync(string key) => Eventually.HoldsAsync(async _ =>
        (await SendAsync(HttpMethod.Get, "/v1/privacy/requests", key: key)).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10), () => "the API to load the key");
}
