using System.Text;
using Ingest.Api.ReadSide;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Ingest.Tests.Unit.Queries;

/// <summary>The keyset paging the events list, the quarantine and the transaction log share.</summary>
public sealed class When_a_list_is_paged
{
    static readonly KeysetCursor Cursors = new(Encoding.UTF8.GetBytes("a-key-for-the-unit-tests"));
    static readonly DateTime Time = new(2026, 11, 22, 10, 30, 15, DateTimeKind.Utc);

    sealed record Row(DateTime At, long Id);

    static QueryParameters Query(string? cursor = null) =>
        new(cursor is null ? new QueryCollection() : new QueryCollection(new Dictionary<string, StringValues> { ["cursor"] = cursor }));

    [Test]
    public void The_scope_is_the_list_and_its_filters_as_cursors_given_out_before_were_bound()
    {
        var from = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.FromHours(2));
        // The scope the lists built by hand before there was one rule: a cursor given out then is still read.
        Assert.That(Paging.Scope("events", "source-a", null, "Signed Up", null, null, from, null),
            Is.EqualTo(string.Join('\u001f', "events", "source-a", null, "Signed Up", null, null, from.UtcTicks, null)));
        Assert.That(Paging.Scope("quarantine", "source-a", true), Is.EqualTo("quarantine\u001fsource-a\u001fTrue"));
        Assert.That(Paging.Scope("quarantine", "source-a", null), Is.Not.EqualTo(Paging.Scope("quarantine", "source-a", false)));
    }

    [Test]
    public void A_page_that_read_a_row_more_drops_it_and_gives_the_last_row_shown_as_cursor()
    {
        var page = Query().Page(Cursors, "scope", 2);
        Assert.That(page.RowsToRead, Is.EqualTo(3));
        var rows = new List<Row> { new(Time, 30), new(Time, 20), new(Time.AddSeconds(-1), 10) };

        var next = page.NextCursor(rows, r => r.At, r => r.Id);

        Assert.That(rows, Is.EqualTo(new[] { new Row(Time, 30), new Row(Time, 20) }));
        Assert.That(Cursors.TryDecode(next!, "scope", out var position), Is.True);
        Assert.That(position, Is.EqualTo(new KeysetCursor.Position(Time, "20")));
    }

    [Test]
    public void A_page_without_the_row_more_is_the_last()
    {
        var rows = new List<Row> { new(Time, 30), new(Time, 20) };
        Assert.That(Query().Page(Cursors, "scope", 2).NextCursor(rows, r => r.At, r => r.Id), Is.Null);
        Assert.That(rows, Has.Count.EqualTo(2));
    }

    [Test]
    public void The_next_page_starts_after_the_cursor_s_row()
    {
        var rows = new List<Row> { new(Time, 30), new(Time, 20), new(Time, 10) };
        var next = Query().Page(Cursors, "scope", 2).NextCursor(rows, r => r.At, r => r.Id);

        var q = Query(next);
        var page = q.Page(Cursors, "scope");

        Assert.That(q.IsValid, Is.True);
        Assert.That((page.AfterTime, page.AfterLongId, page.AfterId), Is.EqualTo(((DateTimeOffset?)new DateTimeOffset(Time), (long?)20, "20")));
        Assert.That(page.Limit, Is.EqualTo(QueryParameters.DefaultLimit));
    }

    [Test]
    public void A_cursor_of_another_scope_is_an_error_naming_cursor()
    {
        var rows = new List<Row> { new(Time, 2), new(Time, 1) };
        var next = Query().Page(Cursors, Paging.Scope("events", "source-a"), 1).NextCursor(rows, r => r.At, r => r.Id);

        var q = Query(next);
        var page = q.Page(Cursors, Paging.Scope("events", "source-b"));

        Assert.That(q.Errors.Keys, Is.EquivalentTo(new[] { "cursor" }));
        Assert.That(page.AfterTime, Is.Null);
    }

    [Test]
    public void The_first_page_has_nothing_before_it()
    {
        var page = Query().Page(Cursors, "scope");
        Assert.That((page.AfterTime, page.AfterId, page.AfterLongId), Is.EqualTo(((DateTimeOffset?)null, (string?)null, (long?)null)));
    }
}
