namespace Ingest.Tests.Unit.Worker;

/// <summary>A clock the test moves by hand; local time is UTC here, so local windows read as the UTC time.</summary>
sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>A time on the tests' day, 2026-11-23, in UTC.</summary>
    public static DateTimeOffset At(int hour, int minute) => new(2026, 11, 23, hour, minute, 0, TimeSpan.Zero);
}
