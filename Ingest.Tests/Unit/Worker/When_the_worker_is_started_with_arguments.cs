using Ingest.Worker.Admin;

namespace Ingest.Tests.Unit.Worker;

/// <summary>Program.Main runs an admin command or starts the host, by the first argument alone.</summary>
public sealed class When_the_worker_is_started_with_arguments
{
    [TestCase]
    [TestCase("--urls", "http://127.0.0.1:5081")]
    [TestCase("--environment=Development")]
    [TestCase("--Ingest:Worker:MessageLimit", "10")]
    public void Host_arguments_start_the_host(params string[] args) =>
        Assert.That(AdminCommands.Recognizes(args), Is.False);

    [TestCase("migrate")]
    [TestCase("source", "add", "shop", "--ip", "keep")]
    [TestCase("key", "create")]
    [TestCase("dead-letters", "list", "--limit", "5")]
    [TestCase("privacy", "bogus")]
    [TestCase("--help")]
    public void A_command_or_help_runs_the_command_line(params string[] args) =>
        Assert.That(AdminCommands.Recognizes(args), Is.True);
}
