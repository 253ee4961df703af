using System.ComponentModel.DataAnnotations;

namespace Ingest.Worker.Partitions;

/// <summary>
/// The partitions of events (section Ingest:Partitions) and their retention (Ingest:Retention): see docs/partitioning.md.
/// </summary>
public sealed class PartitionOptions
{
    public const string Section = "Ingest:Partitions";
    public const string RetentionKey = "Ingest:Retention";

    /// <summary>What one partition holds: the events stored in one UTC month, week (from Monday) or day.</summary>
    [Required, AllowedValues("month", "week", "day")] public string Period { get; set; } = "month";

    /// <summary>Partitions kept ready after the current one, so that a worker stopped for less than this never finds none.</summary>
    [Range(1, 366)] public int Ahead { get; set; } = 2;

    /// <summary>How often the worker makes sure of the partitions ahead and applies the retention.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")] public TimeSpan CheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Ingest:Retention: events stored longer ago are dropped, a whole partition at a time, once every row of it is
    /// older; a message sent again is deduplicated for at least this long. Unset (the default): events are kept.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "36500.00:00:00")] public TimeSpan? Retention { get; set; }
}
