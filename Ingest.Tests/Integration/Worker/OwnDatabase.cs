using Dapper;
using Ingest.Database.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// A migrated database of its own for a test that breaks its database (makes it read-only, renames a table, revokes a
/// grant), so no other test sees the fault; dropped at the end with the role made for it, if any.
/// </summary>
public sealed class OwnDatabase : IAsyncDisposable
{
    OwnDatabase(string name)
    {
        Name = name;
        // Unpooled: the tests terminate the database's connections, and the test's own must not be among the broken.
        DataSource = NpgsqlDataSource.Create(ConnectionString + ";Pooling=false");
    }

    public string Name { get; }
    public string ConnectionString => TestStack.ConnectionStringFor(Name);
    public NpgsqlDataSource DataSource { get; }
    string? _role;

    /// <param name="locale">The database's locale, when not the server's (a locale the system has, e.g. C.UTF-8).</param>
    public static async Task<OwnDatabase> CreateAsync(string? locale = null)
    {
        var db = new OwnDatabase($"ingest_fault_{Guid.NewGuid():N}"[..26]);
        await TestStack.CreateDatabaseAsync(db.Name, locale);
        await new Migrator(db.DataSource, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        return db;
    }

    /// <summary>Runs a statement as the superuser, connected to this database.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var conn = await DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync(sql);
    }

    /// <summary>Runs a statement as the superuser from the server's postgres database: for ALTER DATABASE, which a read-only session of this one could not run.</summary>
    public static async Task ExecuteOnServerAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(TestStack.ConnectionStringFor("postgres"));
        await admin.ExecuteAsync(sql);
    }

    /// <summary>Ends every other session on this database, so the worker's next connections take its new settings.</summary>
    public Task TerminateConnectionsAsync() =>
        ExecuteOnServerAsync($"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{Name}' and pid <> pg_backend_pid()");

    /// <summary>A login role that may do what the worker does on this database; returns the connection string that logs in as it.</summary>
    public async Task<string> CreateWorkerRoleAsync()
    {
        _role = $"{Name}_worker";
        await ExecuteAsync($"""
            create role {_role} login;
            grant usage, create on schema public to {_role};
            grant all on all tables in schema public to {_role};
            grant all on all sequences in schema public to {_role};
            """);
        return $"{ConnectionString.Replace("Username=postgres", $"Username={_role}", StringComparison.Ordinal)}";
    }

    public string Role => _role ?? throw new InvalidOperationException("no role created");

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await TestStack.DropDatabaseAsync(Name);
        if (_role is not null)
            await ExecuteOnServerAsync($"drop role if exists {_role}");
    }
}
