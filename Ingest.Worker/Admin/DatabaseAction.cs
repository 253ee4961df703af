using System.CommandLine;
using Npgsql;

namespace Ingest.Worker.Admin;

/// <summary>The action of a command that works on the database: the same checks and failures for every one of them.</summary>
static class DatabaseAction
{
    /// <summary>
    /// Runs <paramref name="action"/> against <c>ConnectionStrings:Postgres</c>; fails with 2 when it is not set, and
    /// with PostgreSQL's own message (and detail) when a statement is refused, e.g. a key for a source that does not exist.
    /// </summary>
    public static void SetDatabaseAction(this Command command, AdminSettings settings, Func<NpgsqlDataSource, ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, ct) =>
        {
            if (string.IsNullOrEmpty(settings.PostgresConnectionString))
                return await AdminCommands.Fail("ConnectionStrings__Postgres is not set.");
            await using var db = NpgsqlDataSource.Create(settings.PostgresConnectionString);
            try
            {
                return await action(db, parse, ct);
            }
            catch (PostgresException e)
            {
                return await AdminCommands.Fail($"{e.MessageText}{(e.Detail is null ? "" : $" ({e.Detail})")}");
            }
        });
}
