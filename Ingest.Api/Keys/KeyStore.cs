using System.Collections.Frozen;
using System.Text.Json;
using Dapper;
using Ingest.Api.Tracking;
using Ingest.Database;
using Ingest.Database.Keys;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Api.Keys;

/// <summary>
/// The keys the API accepts, held in memory so that the ingest path never touches PostgreSQL. A background loop
/// reloads them every RefreshInterval (a revoked key stops working within that time) and keeps the last copy,
/// also saved to a snapshot file, while the database is down, so even a restart during an outage can serve. Keys are
/// found by the hex of their <see cref="ApiKey.Hash"/>, as the command line stores it. Reads the primary, not the read
/// side's replica: a replica that stopped replaying would keep a revoked key working (<see cref="ReadSide.ReadDatabase"/>).
/// </summary>
public sealed class KeyStore(NpgsqlDataSource db, IOptions<KeyOptions> options, TimeProvider time, ILogger<KeyStore> log) : BackgroundService
{
    const string SelectActiveKeys = """
        select k.key_hash as Hash, k.source_id as SourceId, k.scope as Scope, s.allowed_origins as AllowedOrigins, s.ip_policy as IpPolicy
        from api_keys k join sources s on s.id = k.source_id
        where k.revoked_at is null
        """;

    /// <summary>A key without its source, scope or origins is a corrupt snapshot, not a key that opens nothing.</summary>
    static readonly JsonSerializerOptions SnapshotJson = new() { RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true };

    volatile FrozenDictionary<string, SourceKey>? _keys;

    public DateTimeOffset? LoadedAt { get; private set; }

    /// <summary>The key's source and scope, or why it opens nothing (any scope: the endpoint's policy checks that).</summary>
    public (SourceKey? Key, KeyFailure? Failure) Authenticate(string? presented)
    {
        if (string.IsNullOrEmpty(presented)) return (null, KeyFailure.Missing);
        if (_keys is not { } keys) return (null, KeyFailure.NotLoaded);
        return keys.GetValueOrDefault(Convert.ToHexStringLower(ApiKey.Hash(presented))) is { } key ? (key, null) : (null, KeyFailure.Unknown);
    }

    public async Task RefreshAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(byte[] Hash, string SourceId, string Scope, string[] AllowedOrigins, string IpPolicy)>(new CommandDefinition(SelectActiveKeys, cancellationToken: ct));
        var keys = rows.ToFrozenDictionary(r => Convert.ToHexStringLower(r.Hash),
            r => new SourceKey(r.SourceId, r.Scope, r.AllowedOrigins, Enum.Parse<IpPolicy>(r.IpPolicy, ignoreCase: true))); // the column's check allows only the enum's words
        _keys = keys;
        LoadedAt = time.GetUtcNow();
        if (options.Value.SnapshotPath is not { Length: > 0 } path) return;
        try
        {
            await SaveSnapshotAsync(keys, path, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Could not write the key snapshot {SnapshotPath}; serving the keys just loaded: {Error}", path, e.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        do
        {
            // Whatever fails, the API keeps serving the last good copy and tries again next tick: only a stop ends the loop.
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                db.Clear(); // the next refresh runs on a session opened after this failure, so a fix in the database is taken up then
                if (_keys is null) await LoadSnapshotAsync(stoppingToken);
                // a database outage is one line a tick; anything else comes with its stack trace
                log.LogWarning(DatabaseAvailability.IsUnavailable(e) ? null : e,
                    "Could not refresh keys, serving the copy loaded at {KeysLoadedAt}: {Error}", LoadedAt, e.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Readable by the API's user only (the file lists every key's hash and source), on disk before it replaces the old one.</summary>
    static async Task SaveSnapshotAsync(FrozenDictionary<string, SourceKey> keys, string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.Delete(temp); // a leftover keeps its old mode: UnixCreateMode applies only to a new file
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var file = new FileStream(temp, create))
        {
            await JsonSerializer.SerializeAsync(file, keys.ToDictionary(), cancellationToken: ct);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>A snapshot that cannot be read (torn, corrupt, unreadable) is reported and ignored: keys then wait for the database.</summary>
    async Task LoadSnapshotAsync(CancellationToken ct)
    {
        if (options.Value.SnapshotPath is not { Length: > 0 } path || !File.Exists(path)) return;
        try
        {
            await using var file = File.OpenRead(path);
            var keys = await JsonSerializer.DeserializeAsync<Dictionary<string, SourceKey>>(file, SnapshotJson, ct);
            if (keys is null) return;
            _keys = keys.ToFrozenDictionary();
            LoadedAt = File.GetLastWriteTimeUtc(path);
            log.LogWarning("Database unreachable at start: serving {KeyCount} keys from the snapshot {SnapshotPath}", keys.Count, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            log.LogWarning("Ignoring the key snapshot {SnapshotPath}, which cannot be read: {Error}", path, e.Message);
        }
    }
}
