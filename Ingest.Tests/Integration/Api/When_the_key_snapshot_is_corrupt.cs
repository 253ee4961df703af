using System.Net;

namespace Ingest.Tests.Integration.Api;

/// <summary>An API starts while PostgreSQL is down, and the snapshot it would fall back on is not valid JSON.</summary>
public sealed class When_the_key_snapshot_is_corrupt
{
    [Test]
    public async Task The_API_stays_up_answers_503_and_serves_once_the_database_returns()
    {
        var (_, key, _) = await TestSources.CreateAsync();
        var snapshot = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(snapshot, "{\"3f9a\": {\"SourceId\": \"sho");
        await TestStack.StackAsync("stop-postgres");
        try
        {
            using var api = new ApiHost(new() { ["Ingest:Keys:SnapshotPath"] = snapshot });
            using var client = api.CreateClient();
            // three refresh intervals: the key store has tried the database and the snapshot, and tried again
            await Task.Delay(TimeSpan.FromSeconds(3));

            using var live = await client.GetAsync("/health/live");
            Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            using var refused = await client.SendAsync(ApiHost.Track(key, new { userId = "u1", @event = "Before keys" }));
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("Keys not loaded"));

            await TestStack.StackAsync("start-postgres");
            await Eventually.HoldsAsync(async t =>
            {
                using var response = await client.SendAsync(ApiHost.Track(key, new { userId = "u1", @event = "After the database returned" }), t);
                return response.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(30), () => "a 200 once PostgreSQL is back");
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
            File.Delete(snapshot);
        }
    }
}
