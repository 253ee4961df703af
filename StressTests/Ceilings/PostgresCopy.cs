using System.Text.Json;
using Ingest.Contracts;
using Ingest.Database.Events;
using Npgsql;
using StressTests.Runner;

namespace StressTests.Ceilings;

/// <summary>
/// The storage half of the floor (issue #25): binary COPY from one connection of the rows the worker writes (every
/// written column of <see cref="EventsTable"/>, shaped like the benchmark's track events as the API makes them) into
/// an unpartitioned table made LIKE events (same columns, defaults, identity and read-side indexes), logged like
/// events, whose primary key (source_id, message_id) does the deduplication that event_keys does for the partitioned
/// events (migration 0108), and finds an event by message id, as event_keys and events_stored do together (0110).
/// Nothing the pipeline stores can cost PostgreSQL less than this.
/// </summary>
public sealed class PostgresCopy(NpgsqlConnection connection, int rowsPerCopy)
{
    const string CreateTable = """
        drop table if exists copy_floor;
        create table copy_floor (like events including all);
        drop index copy_floor_stored_at_message_id_idx;
        alter table copy_floor add primary key (source_id, message_id);
        """;
    const string DropTable = "drop table if exists copy_floor";
    static readonly string CopyRows = $"copy copy_floor ({EventsTable.WrittenColumnList}) from stdin (format binary)";
    static readonly JsonElement Properties = JsonDocument.Parse("""{"plan":"pro","amount":12.5,"path":"/pricing","referrer":"https://example.com/"}""").RootElement;
    static readonly JsonElement Context = JsonDocument.Parse("""{"ip":"127.0.0.0","userAgent":"StressTests"}""").RootElement;

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

    /// <summary>One COPY of <c>rowsPerCopy</c> rows: the step of the floor's scenario (one client: one connection).</summary>
    public async Task<StepResult> CopyAsync(ScenarioContext context, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        await using var importer = await connection.BeginBinaryImportAsync(CopyRows, ct);
        for (var i = 0; i < rowsPerCopy; i++)
        {
            var messageId = $"m-{next++}";
            var e = new AnalyticsEvent
            {
                SourceId = "copy-floor",
                MessageId = messageId,
                Type = "track",
                Event = "Clicked",
                UserId = $"u{messageId.Length % 7}",
                Timestamp = now,
                SentAt = now,
                ReceivedAt = now,
                Properties = Properties,
                Context = Context,
            };
            await importer.StartRowAsync(ct);
            foreach (var column in EventsTable.Written)
                await column.WriteAsync(importer, e, ct);
        }
        var rows = await importer.CompleteAsync(ct);
        return StepResult.Ok(items: (long)rows);
    }
}
