using System.Runtime.Versioning;

namespace Ingest.Tests.Integration.Api;

/// <summary>The snapshot holds the hashes of every key: it is for the API's own user only.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class When_the_key_snapshot_is_written
{
    [Test]
    public async Task Only_its_owner_can_read_or_write_it()
    {
        var snapshot = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.json");
        try
        {
            var (_, key, _) = await TestSources.CreateAsync();
            using (var api = new ApiHost(new() { ["Ingest:Keys:SnapshotPath"] = snapshot }))
                (await api.StartAsync(key)).Dispose();

            Assert.That(File.GetUnixFileMode(snapshot), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.That(File.Exists(snapshot + ".tmp"), Is.False, "the temporary file was renamed over the snapshot");
        }
        finally
        {
            File.Delete(snapshot);
        }
    }
}
