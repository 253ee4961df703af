namespace Ingest.Api.Tracking;

/// <summary>
/// Segment's correction for a client whose clock is wrong: the client says when it sent the request (sentAt) and
/// when the event happened (timestamp); the gap between them is trusted, the client's clock is not.
/// </summary>
public static class ClockSkew
{
    public static readonly TimeSpan MaxFuture = TimeSpan.FromHours(24);

    /// <returns>receivedAt − (sentAt − timestamp) when both are given; the timestamp alone when sentAt is missing;
    /// receivedAt when the timestamp is missing. A result more than 24 h after receivedAt becomes receivedAt, flagged.</returns>
    public static (DateTimeOffset Timestamp, bool Clamped) Correct(DateTimeOffset? timestamp, DateTimeOffset? sentAt, DateTimeOffset receivedAt)
    {
        if (timestamp is not { } t) return (receivedAt, false);
        var corrected = sentAt is { } s ? receivedAt - (s - t) : t;
        return corrected - receivedAt > MaxFuture ? (receivedAt, true) : (corrected.ToUniversalTime(), false);
    }
}
