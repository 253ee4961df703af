using System.Net;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Queries;

/// <summary>PostgreSQL stops under the running API: the read side says so, the write side goes on.</summary>
public sealed class When_the_database_is_down_under_a_read
{
    static readonly string[] Routes = ["/v1/events", "/v1/events/some-message", "/v1/stats/events", "/v1/stats/users", "/v1/transactions", "/v1/quarantine", "/v1/events/stream", "/v1/source", "/v1/transactions/per-minute"];

    [Test]
    public async Task Read_endpoints_answer_503_with_Retry_After_and_recover_while_ingestion_goes_on()
    {
        var (_, writeKey, readKey) = await ReadSide.CreateSourceAsync();
        using (var up = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/events", readKey)))
            Assert.That(up.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the key is loaded and the read side works before the outage");

        await TestStack.StackAsync("stop-postgres");
        try
        {
            foreach (var route in Routes)
            {
                using var response = await ReadSide.Client.SendAsync(ReadSide.Get(route, readKey));
                var body = await response.Content.ReadAsStringAsync();
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), $"{route}: {body}");
                Assert.That(response.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero), route);
                Assert.That(body, Does.Contain("Database unavailable"), route);
            }
            using var written = await ReadSide.Client.SendAsync(ApiHost.Track(writeKey, new { userId = "u1", @event = "While the database is down" }));
            Assert.That(written.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the write side is unaffected");
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
        }
        await ReadSide.Api.DrainAsync();
        await Eventually.HoldsAsync(async t =>
        {
            using var response = await ReadSide.Client.SendAsync(ReadSide.Get("/v1/events", readKey), t);
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), () => "the read side to answer again once PostgreSQL is back");
    }
}
