using System.Text;
using Ingest.Api.ReadSide;

namespace Ingest.Tests.Unit.Queries;

public sealed class When_a_cursor_is_issued_and_read_back
{
    static readonly KeysetCursor Cursors = new(Encoding.UTF8.GetBytes("a-key-for-the-unit-tests"));
    static readonly DateTime Time = new(2026, 11, 22, 10, 30, 15, 123, DateTimeKind.Utc);

    [Test]
    public void It_reads_back_as_the_position_it_was_issued_for()
    {
        var text = Cursors.Encode(Time.AddTicks(7), "12345", "scope");
        Assert.That(Cursors.TryDecode(text, "scope", out var position), Is.True);
        Assert.That(position, Is.EqualTo(new KeysetCursor.Position(Time.AddTicks(7), "12345")));
    }

    [Test]
    public void It_is_url_safe_and_does_not_show_the_position()
    {
        var text = Cursors.Encode(Time, "12345", "scope");
        Assert.That(text, Does.Match("^[A-Za-z0-9_-]+$"));
        Assert.That(text, Does.Not.Contain("12345"));
    }

    [Test]
    public void Every_single_changed_character_is_refused()
    {
        var text = Cursors.Encode(Time, "987654321", "scope");
        for (var i = 0; i < text.Length; i++)
        {
            var changed = text[..i] + (text[i] == 'A' ? 'B' : 'A') + text[(i + 1)..];
            Assert.That(Cursors.TryDecode(changed, "scope", out _), Is.False, $"changed at {i}: {changed}");
        }
    }

    [TestCase("")]
    [TestCase("!!!")]
    [TestCase("AAAA")]
    [TestCase("bm90IGEgY3Vyc29y")]
    public void Text_it_did_not_give_out_is_refused(string text) => Assert.That(Cursors.TryDecode(text, "scope", out _), Is.False);

    [Test]
    public void A_cursor_of_another_scope_or_key_is_refused()
    {
        var text = Cursors.Encode(Time, "1", "events|source-a");
        Assert.That(Cursors.TryDecode(text, "events|source-b", out _), Is.False);
        Assert.That(new KeysetCursor(Encoding.UTF8.GetBytes("another-key-entirely")).TryDecode(text, "events|source-a", out _), Is.False);
    }
}
