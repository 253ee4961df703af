using System.Text;
using Ingest.Api.Events;

namespace Ingest.Tests.Unit.Queries;

public sealed class When_a_csv_line_is_written
{
    [TestCase(new[] { "a", "b" }, "a,b")]
    [TestCase(new[] { "x,y", "plain" }, "\"x,y\",plain")]
    [TestCase(new[] { "say \"hi\"" }, "\"say \"\"hi\"\"\"")]
    [TestCase(new[] { "two\nlines", null }, "\"two\nlines\",")]
    public void Only_fields_that_need_it_are_quoted(string?[] fields, string expected)
    {
        var line = new StringBuilder();
        EventCsv.Append(line, fields);
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
    public void A_cell_a_spreadsheet_would_run_as_a_formula_is_neutralised(string field, string expected)
    {
        var line = new StringBuilder();
        EventCsv.Append(line, field);
        Assert.That(line.ToString(), Is.EqualTo(expected));
    }
}
