using Ingest.Api.Tracking;

namespace Ingest.Tests.Unit.Api;

public sealed class ClockSkewTests
{
    static readonly DateTimeOffset ReceivedAt = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public void Correct_ClientClockBehind_KeepsTheGapBetweenEventAndSend()
    {
        var clientNow = ReceivedAt.AddHours(-7);

        var (timestamp, clamped) = ClockSkew.Correct(clientNow.AddMinutes(-3), clientNow, ReceivedAt)!.Value;

        Assert.That(timestamp, Is.EqualTo(ReceivedAt.AddMinutes(-3)));
        Assert.That(clamped, Is.False);
    }

    [Test]
    public void Correct_NoSentAt_TrustsTheTimestamp()
    {
        var (timestamp, _) = ClockSkew.Correct(ReceivedAt.AddDays(-2), null, ReceivedAt)!.Value;

        Assert.That(timestamp, Is.EqualTo(ReceivedAt.AddDays(-2)));
    }

    [Test]
    public void Correct_NoTimestamp_UsesReceivedAt()
    {
        Assert.That(ClockSkew.Correct(null, ReceivedAt.AddSeconds(-1), ReceivedAt), Is.EqualTo((ReceivedAt, false)));
    }

    [Test]
    public void Correct_MoreThanADayAhead_ClampsToReceivedAtAndFlags()
    {
        Assert.That(ClockSkew.Correct(ReceivedAt.AddHours(25), null, ReceivedAt), Is.EqualTo((ReceivedAt, true)));
    }

    [Test]
    public void Correct_JustUnderADayAhead_IsKept()
    {
        Assert.That(ClockSkew.Correct(ReceivedAt.AddHours(23), null, ReceivedAt), Is.EqualTo((ReceivedAt.AddHours(23), false)));
    }

    [Test]
    public void Correct_OffsetTimestamp_IsReturnedInUtc()
    {
        var (timestamp, _) = ClockSkew.Correct(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.FromHours(2)), null, ReceivedAt)!.Value;

        Assert.That(timestamp.Offset, Is.EqualTo(TimeSpan.Zero));
        Assert.That(timestamp.UtcDateTime, Is.EqualTo(new DateTime(2026, 11, 22, 7, 0, 0, DateTimeKind.Utc)));
    }

    [Test]
    public void Correct_TimestampInYearOneSentInYear9999_IsOutsideTheCalendar()
    {
        var correction = ClockSkew.Correct(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, ReceivedAt);

        Assert.That(correction, Is.Null);
    }
}
