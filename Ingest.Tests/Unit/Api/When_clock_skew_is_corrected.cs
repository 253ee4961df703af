using Ingest.Api.Tracking;

namespace Ingest.Tests.Unit.Api;

public sealed class When_clock_skew_is_corrected
{
    static readonly DateTimeOffset ReceivedAt = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public void A_client_clock_behind_keeps_the_gap_between_event_and_send()
    {
        var clientNow = ReceivedAt.AddHours(-7);

        var (timestamp, clamped) = ClockSkew.Correct(clientNow.AddMinutes(-3), clientNow, ReceivedAt)!.Value;

        Assert.That(timestamp, Is.EqualTo(ReceivedAt.AddMinutes(-3)));
        Assert.That(clamped, Is.False);
    }

    [Test]
    public void The_timestamp_is_trusted_without_a_sentAt()
    {
        var (timestamp, _) = ClockSkew.Correct(ReceivedAt.AddDays(-2), null, ReceivedAt)!.Value;

        Assert.That(timestamp, Is.EqualTo(ReceivedAt.AddDays(-2)));
    }

    [Test]
    public void The_receive_time_is_used_without_a_timestamp()
    {
        Assert.That(ClockSkew.Correct(null, ReceivedAt.AddSeconds(-1), ReceivedAt), Is.EqualTo((ReceivedAt, false)));
    }

    [Test]
    public void A_timestamp_more_than_a_day_ahead_is_clamped_to_the_receive_time_and_flagged()
    {
        Assert.That(ClockSkew.Correct(ReceivedAt.AddHours(25), null, ReceivedAt), Is.EqualTo((ReceivedAt, true)));
    }

    [Test]
    public void A_timestamp_just_under_a_day_ahead_is_kept()
    {
        Assert.That(ClockSkew.Correct(ReceivedAt.AddHours(23), null, ReceivedAt), Is.EqualTo((ReceivedAt.AddHours(23), false)));
    }

    [Test]
    public void A_timestamp_with_an_offset_is_returned_in_utc()
    {
        var (timestamp, _) = ClockSkew.Correct(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.FromHours(2)), null, ReceivedAt)!.Value;

        Assert.That(timestamp.Offset, Is.EqualTo(TimeSpan.Zero));
        Assert.That(timestamp.UtcDateTime, Is.EqualTo(new DateTime(2026, 11, 22, 7, 0, 0, DateTimeKind.Utc)));
    }

    [Test]
    public void A_timestamp_in_year_one_sent_in_year_9999_is_outside_the_calendar()
    {
        var correction = ClockSkew.Correct(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, ReceivedAt);

        Assert.That(correction, Is.Null);
    }
}
