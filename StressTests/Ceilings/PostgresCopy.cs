using Npgsql;
using NpgsqlTypes;
using StressTests.Runner;

namespace StressTests.Ceilings;

/// <summary>
/// The storage ceiling: binary COPY from one connection into a table made LIKE events (same columns, defaults,
/// identity, unique key and read-side indexes), logged like events, in the run's scratch database, with rows shaped
/// like the worker's. It is what PostgreSQL can take into the same table shape with no conflict checks: an upper bound.
/// </summary>
public sealed class PostgresCopy(NpgsqlConnection connection, int rowsPerCopy)
{
    const string CreateTable = "drop table if exists copy_ceiling; create table copy_ceiling (like events including all)";
    const string DropTable = "drop table if exists copy_ceiling";
    const string CopyRows = """copy copy_ceiling (source_id, message_id, type, event, user_id, "timestamp", received_at, properties) from stdin (format binary)""";
    const string Properties = """{"plan":"pro","amount":12.5,"path":"/pricing","referrer":"https://example.com/"}""";

    long next;

    public static async Task<PostgresCopy> CreateAsync(NpgsqlConnection connection, int rowsPerCopy, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(CreateTable, connection);
        await cmd.ExecuteNonQueryAsync(ct);
        return new PostgresCopy(connection, rowsPerCopy);
    }

    /// <summary>The table goes when the measure is taken: bench.sh measures in the pipeline's own database.</summary>
    public async Task DropAsync(CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(DropTable, connection);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One COPY of <c>rowsPerCopy</c> rows: the step of the ceiling scenario (one client: one connection).</summary>
    public async Task<StepResult> CopyAsync(ScenarioContext context, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        await using var importer = await connection.BeginBinaryImportAsync(CopyRows, ct);
        for (var i = 0; i < rowsPerCopy; i++)
        {
            await importer.StartRowAsync(ct);
            await importer.WriteAsync("copy-ceiling", NpgsqlDbType.Text, ct);
            await importer.WriteAsync($"m-{next++}", NpgsqlDbType.Text, ct);
            await importer.WriteAsync("track", NpgsqlDbType.Text, ct);
            await importer.WriteAsync("Clicked", NpgsqlDbType.Text, ct);
            await importer.WriteAsync("u1", NpgsqlDbType.Text, ct);
            await importer.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
            await importer.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
            await importer.WriteAsync(Properties, NpgsqlDbType.Jsonb, ct);
        }
        var rows = await importer.CompleteAsync(ct);
        return StepResult.Ok(items: (long)rows);
    }
}
