using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ingest.Tests.Integration.Api;

public sealed class When_the_API_stops
{
    [Test]
    public async Task Every_request_answered_200_has_its_events_on_the_broker()
    {
        var (_, key, _) = await TestSources.CreateAsync();
        // A wide group-commit window keeps events waiting in the API when the stop comes.
        var api = new ApiHost(new() { ["Ingest:Publish:Window"] = "00:00:00.200" });
        var client = await api.StartAsync(key);
        var sends = Enumerable.Range(0, 200).Select(async i =>
        {
            try
            {
                using var response = await client.SendAsync(ApiHost.Track(key, new { userId = "u1", @event = "Stopping", messageId = $"stop-{i}" }));
                return (Id: $"stop-{i}", response.StatusCode);
            }
            catch (HttpRequestException)
            {
                return (Id: $"stop-{i}", StatusCode: (HttpStatusCode)0);
            }
        }).ToList();
        await Task.Delay(50);

        await api.Services.GetRequiredService<IHostApplicationLifetime>().StopApplicationAsync();
        var results = await Task.WhenAll(sends);
        var events = await api.EventsOnQueueAsync(results.Count(r => r.StatusCode == HttpStatusCode.OK), TimeSpan.FromSeconds(5));
        api.Dispose();

        var confirmed = results.Where(r => r.StatusCode == HttpStatusCode.OK).Select(r => r.Id).ToList();
        Assert.That(confirmed, Is.Not.Empty);
        Assert.That(events.Select(e => e.GetProperty("messageId").GetString()), Is.SupersetOf(confirmed));
    }
}
