using Ingest.Api.ReadSide;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Ingest.Tests.Unit.Queries;

public sealed class When_query_parameters_are_read
{
    static QueryParameters Of(string name, string value) => new(new QueryCollection(new Dictionary<string, StringValues> { [name] = value }));

    [TestCase("1", 1)]
    [TestCase("100", 100)]
    [TestCase("1000", 1000)]
    public void A_limit_within_bounds_is_taken(string text, int expected)
    {
        var q = Of("limit", text);
        Assert.That(q.Limit(), Is.EqualTo(expected));
        Assert.That(q.IsValid, Is.True);
    }

    [Test]
    public void The_limit_defaults_to_100() => Assert.That(new QueryParameters(new QueryCollection()).Limit(), Is.EqualTo(100));

    [TestCase("0")]
    [TestCase("1001")]
    [TestCase("-5")]
    [TestCase("1e3")]
    [TestCase("many")]
    public void A_limit_out_of_range_is_an_error_naming_limit(string text)
    {
        var q = Of("limit", text);
        q.Limit();
        Assert.That(q.Errors.Keys, Is.EquivalentTo(new[] { "limit" }));
    }

    [TestCase("2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z")]
    [TestCase("2026-11-22T12:00:00+02:00", "2026-11-22T10:00:00Z")]
    [TestCase("2026-11-22T10:00:00", "2026-11-22T10:00:00Z")]
    public void An_instant_is_read_as_utc(string text, string expected)
    {
        Assert.That(Of("from", text).Instant("from"), Is.EqualTo(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void An_instant_that_is_not_a_date_is_an_error_naming_the_parameter()
    {
        var q = Of("to", "tomorrow");
        q.Instant("to");
        Assert.That(q.Errors.Keys, Is.EquivalentTo(new[] { "to" }));
    }
}
