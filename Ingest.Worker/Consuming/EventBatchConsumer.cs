using System.Text.Json;
using System.Text.Json.Serialization;
using Ingest.Contracts;
using System.Diagnostics;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Ingest.ServiceDefaults.Logging;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serilog.Core;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Consumes batches of broker messages and stores their events in one transaction. The messages are acknowledged
/// only when this returns, that is after the commit. It throws only when the worker stops (cancellation requeues the
/// batch): <see cref="TransactionRunner"/> retries every other failure, so no readable message reaches the error queue.
/// </summary>
public sealed class EventBatchConsumer(TransactionRunner runner, ILogger<EventBatchConsumer> log) : IConsumer<Batch<EventBatch>>
{
    public async Task Consume(ConsumeContext<Batch<EventBatch>> context)
    {
        var events = new List<AnalyticsEvent>(context.Message.Sum(m => m.Message.Events.Count));
        foreach (var message in context.Message)
            events.AddRange(message.Message.Events);

        // The transaction continues the first message's trace; TraceIds names every request it stores, so ops find
        // a request's transaction in Seq from the request's trace id.
        using var activity = IngestTracing.StartFor("ingest transaction", ActivityKind.Consumer,
            context.Message.Select(m => m.Headers.Get<string>(IngestTracing.ActivityIdHeader)));
        var traceIds = context.Message.SelectMany(m => (m.Headers.Get<string>(IngestHeaders.TraceIds) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).Distinct().ToArray();
        using var scope = log.BeginScope(new Dictionary<string, object> { ["TraceIds"] = traceIds });
        await runner.WriteAsync(context.Message.Length, events, context.CancellationToken);
    }
}

/// <summary>Batch size, time limit, concurrency and prefetch, from <see cref="WorkerOptions"/>.</summary>
public sealed class EventBatchConsumerDefinition(IOptions<WorkerOptions> options) : ConsumerDefinition<EventBatchConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<EventBatchConsumer> consumerConfigurator, IRegistrationContext context)
    {
        var worker = options.Value;
        endpointConfigurator.PrefetchCount = worker.PrefetchCount;
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(worker.MessageLimit)
            .SetTimeLimit(worker.TimeLimit)
            .SetConcurrencyLimit(worker.ConcurrencyLimit));
    }
}

public static class EventConsumerExtensions
{
    /// <summary>
    /// The batch consumer on the queue of <see cref="BrokerOptions"/>, with no MassTransit retry (Polly in
    /// <see cref="TransactionRunner"/> owns retries), and a shutdown that gives the batch in hand
    /// <see cref="WorkerOptions.ConsumerStopTimeout"/> to commit before it is abandoned unacknowledged. A message that
    /// cannot be read is logged by <see cref="UnreadableMessageLog"/>, without its body, instead of by MassTransit.
    /// </summary>
    public static IHostApplicationBuilder AddEventConsumer(this IHostApplicationBuilder builder)
    {
        var broker = builder.AddBrokerOptions();
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<UnnestInsert>();
        builder.Services.AddSingleton<CopyInsert>();
        builder.Services.AddSingleton<RefusedEventQuarantine>();
        builder.Services.AddSingleton<EventWriter>();
        builder.Services.AddSingleton<TransactionLog>();
        builder.Services.AddSingleton<WriteRateLimiter>();
        builder.Services.AddSingleton<TransactionRunner>();
        builder.Services.AddSingleton<ConsumerPause>();
        builder.Services.AddReceiveObserver<UnreadableMessageLog>();
        builder.Services.AddSingleton<ILogEventFilter, UnreadableMessageFaultFilter>();
        builder.Services.AddOptions<MassTransitHostOptions>().Configure<IOptions<WorkerOptions>>((host, worker) =>
        {
            host.WaitUntilStarted = true;
            host.ConsumerStopTimeout = worker.Value.ConsumerStopTimeout;
            host.StopTimeout = worker.Value.ConsumerStopTimeout + TimeSpan.FromSeconds(10);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromMinutes(1));
        builder.Services.AddMassTransit(x =>
        {
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false); // on premises: nothing leaves for MassTransit's usage telemetry
            x.AddConsumer<EventBatchConsumer, EventBatchConsumerDefinition>();
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker);
                // A message that does not deserialize faults alone, before it joins a batch, and MassTransit moves it to
                // the queue's _error queue; the rest of the batch is stored. A null where the contract has none (events,
                // sourceId…) must fail here too: past this point it would fault the whole batch, or be retried for ever.
                cfg.ConfigureJsonSerializerOptions(options =>
                {
                    options.RespectNullableAnnotations = true;
                    options.RespectRequiredConstructorParameters = true;
                    options.Converters.Add(new EventListWithoutNulls()); // the annotations do not reach list elements
                    return options;
                });
                // MassTransit declares _error (and _skipped) with the queue's arguments: the same type, but no delivery
                // limit or dead-lettering of their own (listing dead letters returns them to the queue each time).
                var mainQueueOnly = broker.QueueArguments().Keys.Except(broker.ErrorQueueArguments().Keys).ToList();
                cfg.SendTopology.ConfigureErrorSettings = s => mainQueueOnly.ForEach(key => s.SetQueueArgument(key, null!));
                cfg.SendTopology.ConfigureDeadLetterSettings = s => mainQueueOnly.ForEach(key => s.SetQueueArgument(key, null!));
                cfg.ReceiveEndpoint(broker.Queue, e =>
                {
                    // Exactly what QueueDeclaration declared, or RabbitMQ refuses the declaration.
                    foreach (var (key, value) in broker.QueueArguments())
                        e.SetQueueArgument(key, value);
                    // Past the delivery limit RabbitMQ moves a message to _error, declared here at start: a dead-letter
                    // exchange that does not exist yet would drop it.
                    if (broker.DeliveryLimit is not null)
                        e.BindDeadLetterQueue(broker.ErrorQueue, broker.ErrorQueue, q =>
                        {
                            foreach (var (key, value) in broker.ErrorQueueArguments())
                                q.SetQueueArgument(key, value);
                        });
                    e.ConfigureConsumer<EventBatchConsumer>(context);
                    e.ConnectReceiveEndpointObserver(context.GetRequiredService<ConsumerPause>());
                });
            });
        });
        return builder;
    }
}

/// <summary>Reads an EventBatch's events, refusing a null among them as the contract does (nullable annotations stop at the list).</summary>
public sealed class EventListWithoutNulls : JsonConverter<IReadOnlyList<AnalyticsEvent>>
{
    public override IReadOnlyList<AnalyticsEvent> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("events must be an array.");
        var events = new List<AnalyticsEvent>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            events.Add(JsonSerializer.Deserialize<AnalyticsEvent>(ref reader, options)
                ?? throw new JsonException($"events[{events.Count}] is null."));
        return events;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<AnalyticsEvent> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize<IEnumerable<AnalyticsEvent>>(writer, value, options);
}
