using System.Net;
using System.Text.Json;

namespace Ingest.Tests.Integration.Api;

public sealed class When_keys_are_managed_from_the_command_line
{
    static readonly Dictionary<string, string> Env = new() { ["ConnectionStrings__Postgres"] = TestStack.ConnectionString };

    static async Task<string> Admin(string arguments)
    {
        var (exitCode, output) = await TestStack.RunAsync("dotnet", $"\"{TestStack.WorkerDll}\" {arguments}", Env);
        Assert.That(exitCode, Is.Zero, output);
        return output.Trim();
    }

    [Test]
    public async Task A_created_key_is_printed_once_works_and_stops_working_when_revoked()
    {
        var source = $"cli-{Guid.NewGuid():N}"[..16];
        await Admin($"source add {source} \"CLI test\" --origins https://a.example");
        var key = await Admin($"key create {source} write");
        using var api = new ApiHost();

        var client = await api.StartAsync(key);
        var listed = await Admin($"key list {source}");
        await Admin($"key revoke {key[..10]}");

        Assert.That(key, Does.StartWith("wk_").And.Length.GreaterThan(40));
        Assert.That(listed, Does.Contain(key[..10]).And.Not.Contain(key), "a listing names the key by its prefix, never in full");
        await Eventually.HoldsAsync(async t =>
        {
            using var response = await client.SendAsync(ApiHost.Track(key, new { userId = "u1", @event = "After revoke" }), t);
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(5), () => "the revoked key to be refused");
    }

    [Test]
    public async Task A_source_s_ip_policy_set_from_the_command_line_is_applied_by_the_API()
    {
        var source = $"cli-{Guid.NewGuid():N}"[..16];
        await Admin($"source add {source} --ip keep");
        var key = await Admin($"key create {source} write");
        using var api = new ApiHost();
        await api.StartAsync(key);
        var client = IPAddress.Parse("203.0.113.45");

        async Task<string?> RecordedIpAsync()
        {
            var (status, answer) = await api.PostFromAsync(client, "/v1/track", new { userId = "u1", @event = "Viewed" }, key);
            Assert.That(status, Is.EqualTo(200), answer);
            var e = (await api.EventsOnQueueAsync(1)).Single();
            return e.TryGetProperty("context", out var context) && context.ValueKind == JsonValueKind.Object && context.TryGetProperty("ip", out var ip) ? ip.GetString() : null;
        }

        Assert.That(await RecordedIpAsync(), Is.EqualTo("203.0.113.45"));
        Assert.That(await Admin($"source set {source} --ip anonymize"), Does.Contain("anonymize"));
        await Eventually.HoldsAsync(async _ => await RecordedIpAsync() == "203.0.113.0", TimeSpan.FromSeconds(10), () => "the API to take up anonymize");
        await Admin($"source set {source} --ip drop");
        await Eventually.HoldsAsync(async _ => await RecordedIpAsync() is null, TimeSpan.FromSeconds(10), () => "the API to take up drop");
    }

    [TestCase("source set no-such-source --ip keep", "no source")]
    [TestCase("source set some-source --ip everything", "usage:")]
    [TestCase("source add some-source --ip everything", "usage:")]
    public async Task A_bad_ip_policy_command_fails_with_the_reason(string arguments, string reason)
    {
        var (exitCode, output) = await TestStack.RunAsync("dotnet", $"\"{TestStack.WorkerDll}\" {arguments}", Env);

        Assert.That(exitCode, Is.Not.Zero);
        Assert.That(output, Does.Contain(reason));
    }

    [Test]
    public async Task A_bad_command_prints_the_usage_and_fails()
    {
        var (exitCode, output) = await TestStack.RunAsync("dotnet", $"\"{TestStack.WorkerDll}\" key create", Env);

        Assert.That(exitCode, Is.Not.Zero);
        Assert.That(output, Does.Contain("usage:"));
    }

    [Test]
    public async Task A_key_for_an_unknown_source_is_refused_with_the_reason()
    {
        var (exitCode, output) = await TestStack.RunAsync("dotnet", $"\"{TestStack.WorkerDll}\" key create no-such-source write", Env);

        Assert.That(exitCode, Is.Not.Zero);
        Assert.That(output, Does.Contain("foreign key").Or.Contain("not present"));
    }
}
