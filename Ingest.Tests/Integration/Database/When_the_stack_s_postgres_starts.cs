using System.Text.RegularExpressions;
using Dapper;

namespace Ingest.Tests.Integration.Database;

/// <summary>
/// deploy/postgres/postgresql.conf is PostgreSQL's one set of settings: deploy/stack.sh starts the tests' server with it
/// (as it starts a developer's or a benchmark's), and docker-compose.yml runs its server on it. Read from the running
/// server: every setting the file names is the server's, but for the address, which stays loopback here.
/// </summary>
public sealed partial class When_the_stack_s_postgres_starts
{
    [GeneratedRegex(@"^([a-z_]+) *= *'?([^' #]*)")]
    private static partial Regex Setting();

    static IEnumerable<TestCaseData> SettingsOfTheFile() =>
        File.ReadLines(Path.Combine(TestStack.RepoRoot, "deploy", "postgres", "postgresql.conf"))
            .Select(line => Setting().Match(line))
            .Where(m => m.Success && m.Groups[1].Value != "listen_addresses")
            .Select(m => new TestCaseData(m.Groups[1].Value, m.Groups[2].Value).SetArgDisplayNames(m.Groups[1].Value));

    static async Task<string?> ShowAsync(string name)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<string>("select current_setting(@name)", new { name });
    }

    [TestCaseSource(nameof(SettingsOfTheFile))]
    public async Task Each_setting_of_the_file_is_the_server_s(string name, string value) =>
        Assert.That(await ShowAsync(name), Is.EqualTo(value));

    [Test]
    public void The_file_keeps_postgresql_s_durability() =>
        Assert.That(SettingsOfTheFile().Select(c => $"{c.Arguments[0]}={c.Arguments[1]}"), Is.SupersetOf(new[] { "fsync=on", "synchronous_commit=on" }));

    [Test]
    public async Task It_listens_on_loopback_only() => Assert.That(await ShowAsync("listen_addresses"), Is.EqualTo("127.0.0.1"));
}
