using System.Text.Json;

namespace Ingest.Tests.Integration.Api;

/// <summary>The OpenAPI document is the contract: every status an endpoint can answer is listed on it.</summary>
public sealed class When_the_OpenAPI_document_is_read
{
    JsonElement _paths;

    [OneTimeSetUp]
    public async Task Read()
    {
        using var api = new ApiHost();
        using var client = api.CreateClient();
        _paths = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths").Clone();
    }

    IEnumerable<string> Statuses(string path, string method) => _paths.GetProperty(path).GetProperty(method).GetProperty("responses").EnumerateObject().Select(r => r.Name);

    [TestCase("/v1/track")]
    [TestCase("/v1/batch")]
    [TestCase("/analytics")]
    public void A_write_endpoint_lists_every_refusal(string path) =>
        Assert.That(Statuses(path, "post"), Is.SupersetOf(new[] { "200", "400", "401", "403", "413", "415", "429", "503" }));

    [TestCase("/v1/events")]
    [TestCase("/v1/stats/users")]
    [TestCase("/v1/privacy/summary")]
    public void A_read_endpoint_lists_401_403_and_503(string path) =>
        Assert.That(Statuses(path, "get"), Is.SupersetOf(new[] { "200", "401", "403", "503" }));
}
