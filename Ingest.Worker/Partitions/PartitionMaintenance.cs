using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Worker.Partitions;

/// <summary>
/// Keeps the partitions of events (migration 0105) ahead of time: the current <see cref="PartitionOptions.Period"/>
/// and <see cref="PartitionOptions.Ahead"/> more, once before the consumer starts (hosted services start in order)
/// and every <see cref="PartitionOptions.CheckInterval"/>. With <see cref="PartitionOptions.Retention"/> set, drops
/// the partitions whose rows are all older, then the deduplication keys of their events, in batches. Idempotent, and
/// safe with several workers: the SQL functions take turns on an advisory lock.
/// </summary>
public sealed class PartitionMaintenance(NpgsqlDataSource db, IOptions<PartitionOptions> options, TimeProvider time, ILogger<PartitionMaintenance> log)
    : BackgroundService
{
    const int KeysPerBatch = 10_000;

    const string CreatePartitionsAhead = "select create_event_partitions(@Period, @Ahead)";
    const string DropPartitionsOlderThan = "select drop_event_partitions(@OlderThan)";
    const string DeleteKeysOfDroppedPartitions = "select delete_dropped_event_keys(@KeysPerBatch)";

    bool _keysToDelete = true; // at start: the keys of a pass that stopped half-way

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(cancellationToken);
        }
        catch (NpgsqlException e)
        {
            // The consumer starts anyway: a batch that finds no partition is retried, not quarantined (DatabaseErrors.IsMissingPartition).
            log.LogError("Partition maintenance failed at start, trying again in {CheckInterval}: {Error}", options.Value.CheckInterval, e.Message);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogError(e is NpgsqlException ? null : e, "Partition maintenance failed, trying again in {CheckInterval}: {Error}", options.Value.CheckInterval, e.Message);
            }
        }
    }

    /// <summary>One pass: the partitions ahead, then the retention when it is set.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var settings = options.Value;
        await using var conn = await db.OpenConnectionAsync(ct);
        var created = (await conn.QueryAsync<string>(new CommandDefinition(CreatePartitionsAhead, new { settings.Period, settings.Ahead }, cancellationToken: ct))).AsList();
        if (created.Count > 0)
            log.LogInformation("Created {PartitionCount} partitions of events: {Partitions}", created.Count, created);
        if (settings.Retention is not { } retention) return;

        var olderThan = time.GetUtcNow() - retention;
        var dropped = (await conn.QueryAsync<string>(new CommandDefinition(DropPartitionsOlderThan, new { OlderThan = olderThan }, cancellationToken: ct))).AsList();
        if (dropped.Count > 0)
        {
            log.LogInformation("Retention dropped {PartitionCount} partitions of events stored before {OlderThan}: {Partitions}", dropped.Count, olderThan, dropped);
            _keysToDelete = true;
        }
        if (!_keysToDelete) return;
        long keys = 0;
        int deleted;
        do
        {
            deleted = await conn.ExecuteScalarAsync<int>(new CommandDefinition(DeleteKeysOfDroppedPartitions, new { KeysPerBatch }, cancellationToken: ct));
            keys += deleted;
        } while (deleted == KeysPerBatch);
        _keysToDelete = false;
        if (keys > 0)
            log.LogInformation("Retention deleted the deduplication keys of {KeyCount} dropped events", keys);
    }
}
