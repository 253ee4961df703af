using Ingest.Database.Keys;

namespace Ingest.Tests.Integration.Api;

/// <summary>Sources and keys written to the test database by the same code as the admin command (<see cref="KeyRecords"/>).</summary>
public static class TestSources
{
    public static async Task<(string SourceId, string WriteKey, string ReadKey)> CreateAsync(string[]? origins = null)
    {
        var source = $"test-{Guid.NewGuid():N}"[..20];
        await KeyRecords.AddSourceAsync(TestStack.Database, source, source, origins ?? [], CancellationToken.None);
        var write = await KeyRecords.CreateKeyAsync(TestStack.Database, source, "write", CancellationToken.None);
        var read = await KeyRecords.CreateKeyAsync(TestStack.Database, source, "read", CancellationToken.None);
        return (source, write, read);
    }

    /// <summary>An admin key (privacy requests) of a source made by <see cref="CreateAsync"/>.</summary>
    public static Task<string> CreateAdminKeyAsync(string source) => KeyRecords.CreateKeyAsync(TestStack.Database, source, "admin", CancellationToken.None);
}
