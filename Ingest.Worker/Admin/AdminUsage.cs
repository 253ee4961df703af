using System.CommandLine;
using System.CommandLine.Help;

namespace Ingest.Worker.Admin;

/// <summary>
/// One line per command of a group (<c>Ingest.Worker key create &lt;source&gt; &lt;write|read|admin&gt;</c>…), written
/// from the command tree itself, for a usage error. System.CommandLine's own help (<c>--help</c>) describes one command
/// at length; after a mistake, the group's commands side by side say more, as this command line always has.
/// </summary>
static class AdminUsage
{
    public static IEnumerable<string> Lines(Command command, string path) =>
        command.Subcommands.Count == 0
            ? [string.Join(' ', [path, .. command.Arguments.Select(Label), .. command.Options.Where(o => o is not HelpOption && !o.Hidden).Select(Label)])]
            : command.Subcommands.SelectMany(c => Lines(c, $"{path} {c.Name}"));

    static string Label(Argument argument) =>
        argument.Arity.MinimumNumberOfValues == 0 ? $"[<{argument.HelpName ?? argument.Name}>]" : $"<{argument.HelpName ?? argument.Name}>";

    static string Label(Option option)
    {
        var label = option.ValueType == typeof(bool) ? option.Name : $"{option.Name} <{option.HelpName ?? option.Name.TrimStart('-')}>";
        return (option.Required ? label : $"[{label}]") + (option.Arity.MaximumNumberOfValues > 1 ? "..." : "");
    }
}
