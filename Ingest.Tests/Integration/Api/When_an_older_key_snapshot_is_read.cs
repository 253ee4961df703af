using System.Net;
using System.Text.Json;
using Ingest.Database.Keys;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// An API starts while PostgreSQL cannot be reached (its connection string points at a closed port) with a snapshot
/// written before sources had an IP policy: its keys still work, and anonymize, the default.
/// </summary>
public sealed class When_an_older_key_snapshot_is_read
{
    [Test]
    public async Task Its_keys_serve_and_anonymize_the_client_s_address()
    {
        const string key = "wk_written-before-ip-policies";
        var snapshot = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(snapshot, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            [Convert.ToHexStringLower(ApiKey.Hash(key))] = new { SourceId = "older-snapshot", Scope = "write", AllowedOrigins = Array.Empty<string>() },
        }));
        try
        {
            using var api = new ApiHost(new()
            {
                ["Ingest:Keys:SnapshotPath"] = snapshot,
                ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=ingest;Timeout=1",
            });
            await api.StartAsync(key);

            var (status, answer) = await api.PostFromAsync(IPAddress.Parse("203.0.113.45"), "/v1/track", new { userId = "u1", @event = "Viewed" }, key);

            Assert.That(status, Is.EqualTo(200), answer);
            var e = (await api.EventsOnQueueAsync(1)).Single();
            Assert.That(e.GetProperty("sourceId").GetString(), Is.EqualTo("older-snapshot"));
            Assert.That(e.GetProperty("context").GetProperty("ip").GetString(), Is.EqualTo("203.0.113.0"));
        }
        finally
        {
            File.Delete(snapshot);
        }
    }
}
