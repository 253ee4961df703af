using System.Text;
using Ingest.Api.Queries;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Ingest.Tests.Unit.Queries;

public sealed class CursorTests
{
    static readonly Cursor Cursors = new(Encoding.UTF8.GetBytes("a-key-for-the-unit-tests"));
    static readonly DateTime Time = new(2026, 11, 22, 10, 30, 15, 123, DateTimeKind.Utc);

    [Test]
    public void Encode_then_decode_returns_the_position()
    {
        var text = Cursors.Encode(Time.AddTicks(7), "12345", "scope");
        Assert.That(Cursors.TryDecode(text, "scope", out var position), Is.True);
        Assert.That(position, Is.EqualTo(new Cursor.Position(Time.AddTicks(7), "12345")));
    }

    [Test]
    public void Encode_is_url_safe_and_does_not_show_the_position()
    {
        var text = Cursors.Encode(Time, "12345", "scope");
        Assert.That(text, Does.Match("^[A-Za-z0-9_-]+$"));
        Assert.That(text, Does.Not.Contain("12345"));
    }

    [Test]
    public void Decode_refuses_every_single_changed_character()
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
    public void Decode_refuses_what_it_did_not_give_out(string text) => Assert.That(Cursors.TryDecode(text, "scope", out _), Is.False);

    [Test]
    public void Decode_refuses_a_cursor_of_another_scope_or_key()
    {
        var text = Cursors.Encode(Time, "1", "events|source-a");
        Assert.That(Cursors.TryDecode(text, "events|source-b", out _), Is.False);
        Assert.That(new Cursor(Encoding.UTF8.GetBytes("another-key-entirely")).TryDecode(text, "events|source-a", out _), Is.False);
    }
}

public sealed class QueryParametersTests
{
    static QueryParameters Of(string name, string value) => new(new QueryCollection(new Dictionary<string, StringValues> { [name] = value }));

    [TestCase("1", 1)]
    [TestCase("100", 100)]
    [TestCase("1000", 1000)]
    public void Limit_within_bounds_is_taken(string text, int expected)
    {
        var q = Of("limit", text);
        Assert.That(q.Limit(), Is.EqualTo(expected));
        Assert.That(q.IsValid, Is.True);
    }

    [Test]
    public void Limit_defaults_to_100() => Assert.That(new QueryParameters(new QueryCollection()).Limit(), Is.EqualTo(100));

    [TestCase("0")]
    [TestCase("1001")]
    [TestCase("-5")]
    [TestCase("1e3")]
    [TestCase("many")]
    public void Limit_out_of_range_is_an_error_naming_limit(string text)
    {
        var q = Of("limit", text);
        q.Limit();
        Assert.That(q.Errors.Keys, Is.EquivalentTo(new[] { "limit" }));
    }

    [TestCase("2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z")]
    [TestCase("2026-11-22T12:00:00+02:00", "2026-11-22T10:00:00Z")]
    [TestCase("2026-11-22T10:00:00", "2026-11-22T10:00:00Z")]
    public void Instant_is_read_as_utc(string text, string expected)
    {
        Assert.That(Of("from", text).Instant("from"), Is.EqualTo(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Instant_that_is_not_a_date_is_an_error_naming_the_parameter()
    {
        var q = Of("to", "tomorrow");
        q.Instant("to");
        Assert.That(q.Errors.Keys, Is.EquivalentTo(new[] { "to" }));
    }
}

public sealed class CsvTests
{
    [TestCase(new[] { "a", "b" }, "a,b")]
    [TestCase(new[] { "x,y", "plain" }, "\"x,y\",plain")]
    [TestCase(new[] { "say \"hi\"" }, "\"say \"\"hi\"\"\"")]
    [TestCase(new[] { "two\nlines", null }, "\"two\nlines\",")]
    public void Append_quotes_only_fields_that_need_it(string?[] fields, string expected)
    {
        var line = new StringBuilder();
        EventsApi.Append(line, fields);
        Assert.That(line.ToString(), Is.EqualTo(expected));
    }

    [TestCase("=1+1", "'=1+1")]
    [TestCase("+1", "'+1")]
    [TestCase("-1", "'-1")]
    [TestCase("@SUM(A1)", "'@SUM(A1)")]
    [TestCase("\t=1", "'\t=1")]
    [TestCase("\r=1", "\"'\r=1\"")]
    [TestCase("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")]
    [TestCase("a=1", "a=1")]
    public void Append_neutralises_a_cell_a_spreadsheet_would_run_as_a_formula(string field, string expected)
    {
        var line = new StringBuilder();
        EventsApi.Append(line, field);
        Assert.That(line.ToString(), Is.EqualTo(expected));
    }
}
