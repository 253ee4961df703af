namespace Ingest.Api.Tracking;

/// <summary>
/// Segment's correction for a client whose clock is wrong: the client says when it sent the request (sentAt) and
/// when the event happened (timestamp); the gap between them is trusted, the client's clock is not.
/// </summary>
public static class ClockSkew
{
    public static readonly TimeSpan MaxFuture = TimeSpan.FromHours(24);

    /// <returns>receivedAt − (sentAt − timestamp) when both are given; the timestamp alone when sentAt is missing;
    /// receivedAt when the timestamp is missing. A result more than 24 h after receivedAt becomes receivedAt, flagged.
    /// Null when the correction falls outside the calendar (a timestamp in year 1 sent in year 9999).</returns>
    public static (DateTimeOffset Timestamp, bool Clamped)? Correct(DateTimeOffset? timestamp, DateTimeOffset? sentAt, DateTimeOffset receivedAt)
    {
        if (timestamp is not { } t) return (receivedAt, false);
        // In ticks, which cannot overflow for dates within the calendar; the result may fall outside it.
        var ticks = sentAt is { } s ? receivedAt.UtcTicks - (s.UtcTicks - t.UtcTicks) : t.UtcTicks;
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks) return null;
        var corrected = new DateTimeOffset(ticks, TimeSpan.Zero);
        return corrected - receivedAt > MaxFuture ? (receivedAt, true) : (corrected, false);
    }
}
