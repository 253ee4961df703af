using System.Net;
using System.Text;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// Stored values that a spreadsheet would run as a formula (OWASP's CSV injection), read through GET /v1/events with
/// Accept: text/csv as an analyst would download them.
/// </summary>
public sealed class When_events_are_exported_as_csv
{
    static readonly DateTime Start = new(2026, 4, 1, 0, 0, 0, DateTimeKind.Utc);

    [Test]
    public async Task Cells_a_spreadsheet_would_run_as_a_formula_start_with_a_quote()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        var hyperlink = StoredEvent.Track(source, "=HYPERLINK(\"http://x\",\"y\")", "plain-user", Start);
        var plus = StoredEvent.Track(source, "+1+1", "+15550100", Start.AddMinutes(1), anonymousId: "-2+3");
        var at = StoredEvent.Track(source, "@SUM(A1:A2)", "@admin", Start.AddMinutes(2));
        var tab = StoredEvent.Track(source, "\t=1+1", "\r=1+1", Start.AddMinutes(3));
        var plain = StoredEvent.Track(source, "Signed Up, twice", "u1", Start.AddMinutes(4));
        await StoredEvent.InsertAsync([hyperlink, plus, at, tab, plain]);

        using var response = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/events", readKey, "text/csv"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        var rows = ParseCsv(body);
        var header = rows[0].ToList();
        var byMessageId = rows.Skip(1).ToDictionary(r => r[header.IndexOf("message_id")]);
        string Cell(StoredEvent e, string column) => byMessageId[e.MessageId][header.IndexOf(column)];

        Assert.Multiple(() =>
        {
            Assert.That(Cell(hyperlink, "event"), Is.EqualTo("'=HYPERLINK(\"http://x\",\"y\")"));
            Assert.That(Cell(plus, "event"), Is.EqualTo("'+1+1"));
            Assert.That(Cell(plus, "user_id"), Is.EqualTo("'+15550100"));
            Assert.That(Cell(plus, "anonymous_id"), Is.EqualTo("'-2+3"));
            Assert.That(Cell(at, "event"), Is.EqualTo("'@SUM(A1:A2)"));
            Assert.That(Cell(at, "user_id"), Is.EqualTo("'@admin"));
            Assert.That(Cell(tab, "event"), Is.EqualTo("'\t=1+1"));
            Assert.That(Cell(tab, "user_id"), Is.EqualTo("'\r=1+1"));
            Assert.That(Cell(hyperlink, "user_id"), Is.EqualTo("plain-user"), "other cells are left as they are");
            Assert.That(Cell(plain, "event"), Is.EqualTo("Signed Up, twice"));
        });
        var stored = await ReadSide.GetJsonAsync($"/v1/events/{hyperlink.MessageId}", readKey);
        Assert.That(stored.GetProperty("event").GetProperty("event").GetString(), Is.EqualTo(hyperlink.Event), "JSON answers keep the stored value");
    }

    /// <summary>RFC 4180 as a spreadsheet reads it: quoted fields may hold commas, doubled quotes and line breaks.</summary>
    static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c != '"') cell.Append(c);
                else if (i + 1 < text.Length && text[i + 1] == '"') cell.Append(text[++i]);
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add([.. row]);
                row.Clear();
                i++;
            }
            else cell.Append(c);
        }
        return rows;
    }
}
