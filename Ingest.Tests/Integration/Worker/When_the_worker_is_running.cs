using System.Net;
using System.Text.Json;

namespace Ingest.Tests.Integration.Worker;

[TestFixture, CancelAfter(60_000)]
public sealed class When_the_worker_is_running
{
    [Test]
    public async Task Ready_reports_the_database_and_the_bus(CancellationToken ct)
    {
        await using var worker = await WorkerProcess.StartAsync(EventSender.NewQueue("health"));

        var (status, body) = await worker.GetAsync("/health/ready", ct);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
        var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks").EnumerateObject().Select(c => c.Name).ToList();
        Assert.That(checks, Does.Contain("postgres"));
        Assert.That(checks, Has.Some.Contains("masstransit").Or.Some.Contains("bus"), body);
        Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("service").GetString(), Is.EqualTo("ingest-worker"));
    }
}
