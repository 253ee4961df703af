namespace Ingest.Tests.Integration.Worker;

/// <summary>A fixture whose every test gets an <see cref="OwnDatabase"/> to break: made before the test, dropped after it.</summary>
public abstract class OwnDatabaseTest
{
    protected OwnDatabase Db { get; private set; } = null!;

    [SetUp]
    public async Task CreateOwnDatabase() => Db = await OwnDatabase.CreateAsync();

    [TearDown]
    public async Task DropOwnDatabase() => await Db.DisposeAsync();
}
