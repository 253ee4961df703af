using System.Text.Json;
using Ingest.Api.Publishing;
using Ingest.Broker;
using Ingest.Contracts;
using Ingest.Tests.Integration;
using Ingest.Worker.Consuming;
using Ingest.Worker.Persistence;
using MassTransit;
using MassTransit.Serialization;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Tests.Contracts;

/// <summary>
/// The API's <see cref="EventPublisher"/> and the worker's <see cref="EventBatchConsumer"/>, both real, on MassTransit's
/// test harness (its in-memory transport, which serializes every message as RabbitMQ's does): the publisher sends to
/// <c>exchange:{Queue}</c> as in the API, the consumer reads with the worker's serializer settings
/// (<see cref="EventBatchSerialization"/>) and its batch options (<see cref="EventBatchConsumerDefinition"/>). Only the
/// store is substituted (<see cref="CapturedEventBatchStore"/> for the <see cref="TransactionRunner"/>, through the
/// <see cref="IEventBatchStore"/> seam), so what is checked is what the real consumer hands to the database, batching
/// included, rather than what a stand-in consumer would read; PostgreSQL is what the integration tests are for.
/// </summary>
public sealed class ApiAndWorkerInProcess : IAsyncDisposable
{
    readonly ServiceProvider _services;
    readonly JsonSerializerOptions _serializerOptionsBefore;

    ApiAndWorkerInProcess(ServiceProvider services, JsonSerializerOptions serializerOptionsBefore) =>
        (_services, _serializerOptionsBefore) = (services, serializerOptionsBefore);

    public CapturedEventBatchStore Store => _services.GetRequiredService<CapturedEventBatchStore>();
    public ReceiveFaults Faults => _services.GetRequiredService<ReceiveFaults>();
    ITestHarness Harness => _services.GetRequiredService<ITestHarness>();
    EventPublisher Publisher => _services.GetRequiredService<EventPublisher>();
    static string Queue => new BrokerOptions().Queue;

    public static async Task<ApiAndWorkerInProcess> StartAsync(CancellationToken ct)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<CapturedEventBatchStore>()
            .AddSingleton<IEventBatchStore>(sp => sp.GetRequiredService<CapturedEventBatchStore>())
            .AddSingleton<ReceiveFaults>()
            .AddSingleton<EventPublisher>();
        services.AddOptions<BrokerOptions>();
        services.AddOptions<PublishOptions>();
        services.AddOptions<WorkerOptions>();
        services.AddMassTransitTestHarness(x =>
        {
            x.AddConsumer<EventBatchConsumer, EventBatchConsumerDefinition>();
            x.UsingInMemory((context, cfg) =>
            {
                cfg.ConfigureJsonSerializerOptions(EventBatchSerialization.Configure);
                cfg.ConnectReceiveObserver(context.GetRequiredService<ReceiveFaults>());
                cfg.ReceiveEndpoint(Queue, e => e.ConfigureConsumer<EventBatchConsumer>(context));
            });
        });
        // ConfigureJsonSerializerOptions sets MassTransit's options for the whole process: put back after, for the API
        // in the other tests of this process writes with MassTransit's defaults, as it does in production. Meanwhile
        // EncodedEvents.Encode here writes with the worker's: the same bytes for an event the API accepts (the settings
        // are about reading; on writing they only refuse a null where the contract has none).
        var serializerOptionsBefore = SystemTextJsonMessageSerializer.Options;
        var provider = services.BuildServiceProvider(validateScopes: true);
        try
        {
            await provider.GetRequiredService<ITestHarness>().Start();
            await provider.GetRequiredService<EventPublisher>().StartAsync(ct);
            return new ApiAndWorkerInProcess(provider, serializerOptionsBefore);
        }
        catch
        {
            await provider.DisposeAsync();
            SystemTextJsonMessageSerializer.Options = serializerOptionsBefore;
            throw;
        }
    }

    /// <summary>What a request of the API does: encoded on the request's path, then gathered and sent by the publisher.</summary>
    public Task PublishAsync(IReadOnlyList<AnalyticsEvent> events, CancellationToken ct) => Publisher.PublishAsync(EncodedEvents.Encode(events), ct);

    /// <summary>Sends a message to the worker's queue where the API does, in MassTransit's envelope or as <paramref name="body"/> says.</summary>
    public async Task SendAsync(LooseEventBatch message, IMessageSerializer? body, CancellationToken ct)
    {
        var endpoint = await Harness.Bus.GetSendEndpoint(new Uri($"exchange:{Queue}"));
        await endpoint.Send(message, context =>
        {
            if (body is not null) context.Serializer = body;
        }, ct);
    }

    /// <summary>Waits until the consumer has stored <paramref name="events"/> events and the endpoint has faulted <paramref name="faults"/> messages.</summary>
    public Task StoredAsync(int events, int faults = 0) => Eventually.HoldsAsync(
        _ => Task.FromResult(Store.Events.Count >= events && Faults.Faults.Count >= faults),
        TimeSpan.FromSeconds(20),
        () => $"{Store.Events.Count} of {events} events stored, {Faults.Faults.Count} of {faults} messages faulted");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Publisher.StopAsync(CancellationToken.None);
            await Harness.Stop();
            await _services.DisposeAsync();
        }
        finally
        {
            SystemTextJsonMessageSerializer.Options = _serializerOptionsBefore;
        }
    }
}
