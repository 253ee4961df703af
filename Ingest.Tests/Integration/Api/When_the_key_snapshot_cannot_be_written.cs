using System.Net;

namespace Ingest.Tests.Integration.Api;

/// <summary>The snapshot path lies under a regular file, so every write fails (as on a full or read-only disk, even for root).</summary>
public sealed class When_the_key_snapshot_cannot_be_written
{
    [Test]
    public async Task Events_are_accepted_and_a_key_created_after_start_works_within_the_refresh_interval()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (_, key, _) = await TestSources.CreateAsync();
            using var api = new ApiHost(new() { ["Ingest:Keys:SnapshotPath"] = Path.Combine(file, "keys.json") });
            using var client = await api.StartAsync(key);

            var (_, newKey, _) = await TestSources.CreateAsync();
            await Eventually.HoldsAsync(async t =>
            {
                using var response = await client.SendAsync(ApiHost.Track(newKey, new { userId = "u1", @event = "New key" }), t);
                return response.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(10), () => "the key created after start to be accepted (refresh interval 1 s)");
            using var old = await client.SendAsync(ApiHost.Track(key, new { userId = "u1", @event = "Old key" }));
            Assert.That(old.StatusCode, Is.EqualTo(HttpStatusCode.OK), await old.Content.ReadAsStringAsync());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
