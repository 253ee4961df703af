using System.ComponentModel.DataAnnotations;

namespace Ingest.Api.Keys;

/// <summary>How keys are loaded and kept (section Ingest:Keys), for <see cref="KeyStore"/>.</summary>
public sealed class KeyOptions
{
    public const string Section = "Ingest:Keys";

    /// <summary>How often keys are reloaded; a revoked key is refused at most this long after revocation.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the last loaded key hashes are kept for a start while the database is down; empty for none.</summary>
    public string? SnapshotPath { get; set; } = ".local/api-keys.json";
}
