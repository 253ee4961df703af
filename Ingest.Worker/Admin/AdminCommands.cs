using System.Collections.Frozen;
using System.CommandLine;
using System.CommandLine.Parsing;

namespace Ingest.Worker.Admin;

/// <summary>
/// The worker's command line for operators: apply migrations (<see cref="MigrateCommand"/>), add sources
/// (<see cref="SourceCommands"/>), create and revoke keys (<see cref="KeyCommands"/>), inspect and replay the
/// dead-letter queue (<see cref="DeadLetterCommands"/>), make privacy requests (<see cref="PrivacyCommands"/>).
/// Every command reads one <see cref="AdminSettings"/>. Exit codes: 0 done, 2 a usage error, a setting missing or
/// the work refused (the reason on stderr).
/// </summary>
public static class AdminCommands
{
    /// <summary>
    /// What the first argument of an admin command can be: the tree's own commands and root options (--help, --version).
    /// The tree is built for its names alone, so it needs no settings; host arguments (--urls …) are none of these.
    /// </summary>
    static readonly FrozenSet<string> Names = NamesOf(Create(new AdminSettings(new ConfigurationBuilder().Build())));

    // Arguments are taken as typed: a name or an origin that starts with @ is not a response file to read.
    static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    // An exception other than the ones a command answers itself ends the process with its stack trace, as before; and
    // Ctrl+C stops it at once, as before: a transaction rolls back, a dead letter leaves _error only once confirmed.
    static readonly InvocationConfiguration Invocation = new() { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };

    public static bool Recognizes(string[] args) => args is [var first, ..] && Names.Contains(first);

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = Create(AdminSettings.Read()).Parse(args, Parsing);
        return parsed.Errors.Count > 0 ? await UsageError(parsed) : await parsed.InvokeAsync(Invocation);
    }

    static FrozenSet<string> NamesOf(RootCommand root) =>
        [.. root.Subcommands.Select(c => c.Name), .. root.Options.SelectMany(o => o.Aliases.Prepend(o.Name))];

    static RootCommand Create(AdminSettings settings) => new("""
        The worker's admin commands. With none, the worker starts.
        The database is ConnectionStrings__Postgres; the broker Ingest__Broker__Host, __Port, __Queue… (dead-letters).
        """)
    {
        MigrateCommand.Create(settings),
        SourceCommands.Create(settings),
        KeyCommands.Create(settings),
        DeadLetterCommands.Create(settings),
        PrivacyCommands.Create(settings),
    };

    /// <summary>What is wrong, then the usage of the group the command belongs to, on stderr; exit code 2.</summary>
    static async Task<int> UsageError(ParseResult parsed)
    {
        var group = parsed.CommandResult;
        while (group.Parent is CommandResult { Parent: not null } parent) group = parent;
        var root = parsed.RootCommandResult.Command.Name;
        var path = group == parsed.RootCommandResult ? root : $"{root} {group.Command.Name}";
        return await Fail(string.Join('\n', [
            .. parsed.Errors.Select(e => e.Message),
            "usage:",
            .. AdminUsage.Lines(group.Command, path).Select(line => "  " + line),
            "(a command followed by --help describes it)",
        ]));
    }

    internal static async Task<int> Fail(string message)
    {
        await Console.Error.WriteLineAsync(message);
        return 2;
    }
}
