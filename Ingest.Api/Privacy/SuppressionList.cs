using System.Collections.Concurrent;
using System.Collections.Frozen;
using Ingest.Api.Keys;
using Ingest.Contracts;
using Ingest.Database;
using Ingest.Database.Privacy;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Api.Privacy;

/// <summary>
/// The suppressed subjects of every source, held in memory as keyed hashes (<see cref="SubjectHash"/>) and reloaded
/// every <see cref="KeyOptions.RefreshInterval"/>, as keys are, so the ingest path never touches PostgreSQL. An event
/// of a source with no suppression costs one dictionary miss; otherwise one SHA-256 of each id it carries. Events
/// suppressed are counted by source (<see cref="SuppressedSince"/>, and one log line a refresh), never named. While the
/// database is down, the last list is kept; the worker's insert skips a suppressed subject's event anyway (migration 0106).
/// </summary>
public sealed class SuppressionList(NpgsqlDataSource db, IOptions<KeyOptions> options, ILogger<SuppressionList> log) : BackgroundService
{
    sealed record Loaded(byte[] Key, FrozenDictionary<string, FrozenSet<string>> BySource);

    volatile Loaded? _loaded;
    readonly ConcurrentDictionary<string, long> _suppressed = new();
    readonly ConcurrentDictionary<string, long> _unlogged = new();

    /// <summary>Whether the event's userId or anonymousId is suppressed in its source; counts it if so.</summary>
    public bool Suppresses(AnalyticsEvent e)
    {
        if (_loaded is not { } loaded || !loaded.BySource.TryGetValue(e.SourceId, out var hashes)) return false;
        var suppressed = (e.UserId is { } user && hashes.Contains(Hex(loaded.Key, SubjectHash.UserId, user)))
            || (e.AnonymousId is { } anonymous && hashes.Contains(Hex(loaded.Key, SubjectHash.AnonymousId, anonymous)));
        if (suppressed)
        {
            _suppressed.AddOrUpdate(e.SourceId, 1, (_, n) => n + 1);
            _unlogged.AddOrUpdate(e.SourceId, 1, (_, n) => n + 1);
        }
        return suppressed;
    }

    /// <summary>The events of the source this API instance answered 200 and did not publish, since it started.</summary>
    public long SuppressedSince(string sourceId) => _suppressed.GetValueOrDefault(sourceId);

    public async Task RefreshAsync(CancellationToken ct)
    {
        var rows = await PrivacyRecords.LoadSuppressionsAsync(db, ct);
        Load(rows.Key, rows.SourceIds.Zip(rows.Hashes));
    }

    /// <summary>Replaces the list: the hash key and each suppressed subject's hash by source (a refresh; a benchmark without the database).</summary>
    public void Load(byte[] key, IEnumerable<(string SourceId, byte[] Hash)> suppressions)
    {
        var bySource = suppressions
            .GroupBy(r => r.SourceId, r => Convert.ToHexString(r.Hash))
            .ToFrozenDictionary(g => g.Key, g => g.ToFrozenSet());
        _loaded = new Loaded(key, bySource);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                db.Clear(); // the next refresh on a session opened after this failure
                log.LogWarning(DatabaseAvailability.IsUnavailable(e) ? null : e, "Could not refresh the suppressed subjects, keeping the last list: {Error}", e.Message);
            }
            foreach (var source in _unlogged.Keys)
                if (_unlogged.TryRemove(source, out var count))
                    log.LogInformation("Suppressed {SuppressedEvents} events of source {SourceId}: answered 200, not published", count, source);
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    static string Hex(byte[] key, string kind, string id) => Convert.ToHexString(SubjectHash.Of(key, kind, id));
}
