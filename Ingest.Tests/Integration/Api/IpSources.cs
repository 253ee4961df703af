using Ingest.Database.Keys;

namespace Ingest.Tests.Integration.Api;

/// <summary>A test source with a client IP policy, set by the same code as <c>Ingest.Worker source set --ip</c>; null leaves the default.</summary>
public static class IpSources
{
    public static async Task<(string SourceId, string WriteKey)> CreateAsync(string? ipPolicy)
    {
        var (source, writeKey, _) = await TestSources.CreateAsync();
        if (ipPolicy is not null) await KeyRecords.SetIpPolicyAsync(TestStack.Database, source, ipPolicy, CancellationToken.None);
        return (source, writeKey);
    }
}
