using System.Text.Json;
using Ingest.Contracts;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using MassTransit;

namespace StressTests.Pipeline;

/// <summary>
/// Events as the worker receives them, without the API: <see cref="AnalyticsEvent"/> records for the in-process writer,
/// and EventBatch messages sent straight to a worker's queue with a MassTransit bus (publisher confirms on), as a
/// backlog for a worker started afterwards.
/// </summary>
public static class BrokerBacklog
{
    static readonly JsonElement Context = JsonDocument.Parse("""{"library":{"name":"analytics.js","version":"2.11.1"}}""").RootElement;

    /// <summary><see cref="TestEvents.Track"/> with the context a browser library sends.</summary>
    public static AnalyticsEvent Event(string source, string messageId) => TestEvents.Track(source, messageId) with { Context = Context };

    /// <summary>Sends <paramref name="messages"/> EventBatch messages of <paramref name="eventsEach"/> events of <paramref name="source"/> to <paramref name="queue"/>.</summary>
    public static async Task SendAsync(string queue, string source, int messages, int eventsEach, CancellationToken ct)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(new BrokerOptions { Host = "127.0.0.1", Port = Stack.AmqpPort, Queue = queue }));
        await bus.StartAsync(ct);
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{queue}"));
            var batches = TestEvents.Batches(source, source, messages, eventsEach, Event);
            await Task.WhenAll(batches.Select(b => endpoint.Send(b, ct)));
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }
}
