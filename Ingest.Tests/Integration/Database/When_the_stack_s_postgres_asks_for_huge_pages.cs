using System.Globalization;
using System.Text.RegularExpressions;

namespace Ingest.Tests.Integration.Database;

/// <summary>
/// deploy/stack.sh with INGEST_PG_HUGE_PAGES=reserve (deploy/bench.sh sets it) reserves the huge pages PostgreSQL's
/// shared memory needs before it starts (as many as the system lacks: none if enough are free), and gives back what it
/// reserved at stop; without it, it leaves the system's alone. Each test starts a cluster of its own (a 2 GB pool)
/// beside the tests' one, on free ports, and removes it.
/// </summary>
[NonParallelizable]
public sealed partial class When_the_stack_s_postgres_asks_for_huge_pages
{
    [GeneratedRegex(@"\(data ([^,)]+)")]
    private static partial Regex DataFolder();

    string _stackDir = null!;
    Dictionary<string, string> _environment = null!;
    string? _pgDir;

    [SetUp]
    public void SetUp()
    {
        _stackDir = Path.Combine(Repo.Root, ".local", "huge-pages-" + Guid.NewGuid().ToString("N")[..8]);
        _environment = new()
        {
            ["INGEST_STACK_DIR"] = _stackDir,
            ["INGEST_PG_PORT"] = FreePort.Take().ToString(CultureInfo.InvariantCulture),
            ["INGEST_AMQP_PORT"] = FreePort.Take().ToString(CultureInfo.InvariantCulture),
        };
    }

    [TearDown]
    public async Task TearDown()
    {
        await TestStack.RunAsync("bash", "deploy/stack.sh stop", _environment);
        if (_pgDir is not null && Directory.Exists(_pgDir)) Directory.Delete(_pgDir, recursive: true);
        if (Directory.Exists(_stackDir)) Directory.Delete(_stackDir, recursive: true);
    }

    static long Reserved() => long.Parse(File.ReadAllText("/proc/sys/vm/nr_hugepages").Trim(), CultureInfo.InvariantCulture);

    bool PostmasterOnHugePages()
    {
        var pid = File.ReadLines(Path.Combine(_pgDir!, "postmaster.pid")).First();
        return File.ReadLines($"/proc/{pid}/maps").Any(line => line.Contains("anon_hugepage", StringComparison.Ordinal));
    }

    async Task<string> StartPostgresAsync()
    {
        var (exitCode, output) = await TestStack.RunAsync("bash", "deploy/stack.sh start-postgres", _environment);
        Assert.That(exitCode, Is.Zero, output);
        _pgDir = DataFolder().Match(output).Groups[1].Value;
        return output;
    }

    [Test]
    public async Task Reserved_its_shared_memory_is_on_huge_pages_and_the_system_gets_them_back_at_stop()
    {
        var before = Reserved();
        _environment["INGEST_PG_HUGE_PAGES"] = "reserve";

        var output = await StartPostgresAsync();

        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain("shared memory on huge pages"));
            Assert.That(PostmasterOnHugePages(), Is.True, "the postmaster's shared memory is mapped from huge pages");
        });
        var (exitCode, stopped) = await TestStack.RunAsync("bash", "deploy/stack.sh stop", _environment);
        Assert.That(exitCode, Is.Zero, stopped);
        Assert.That(Reserved(), Is.EqualTo(before), "the huge pages it reserved are given back");
    }

    [Test]
    public async Task By_default_it_reserves_none()
    {
        var before = Reserved();

        await StartPostgresAsync();

        Assert.That(Reserved(), Is.EqualTo(before));
    }
}
