using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Ingest.Contracts;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Ingest.ServiceDefaults.Logging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ingest.Api.Publishing;

/// <summary>
/// Group commit: the events of concurrent requests are sent as one broker message; each request completes when the
/// message carrying its events is confirmed by RabbitMQ. One message per event would cap ingestion at the broker's
/// message rate. Idle, a request's events leave at once; while other messages await their confirm, events are gathered
/// for up to <see cref="PublishOptions.Window"/>, and while every slot waits on the broker they pile up and leave together.
/// On shutdown, after the server has stopped taking requests, what was accepted is still sent before the bus stops.
/// A message the broker refuses (its queue at Ingest:Broker:MaxQueueBytes) answers its requests 503 at once.
/// </summary>
public sealed class EventPublisher(IBus bus, IOptions<PublishOptions> options, IOptions<BrokerOptions> broker, ILogger<EventPublisher> log)
    : BackgroundService, ISendObserver
{
    /// <summary>A request's events waiting for their broker message. Its task completes once: confirmed, failed, or
    /// abandoned when the request has answered already (timed out, or its client gone), in which case it is not sent.</summary>
    sealed record Pending(EncodedEvents Events, string? TraceParent, TaskCompletionSource Confirmed);

    readonly Channel<Pending> _pending = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.Value.MaxPendingRequests)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    readonly SemaphoreSlim _inFlight = new(options.Value.MaxInFlightMessages);

    /// <summary>The bytes of the events accepted and not yet confirmed, failed or abandoned.</summary>
    long _pendingBytes;

    /// <summary>The broker messages being sent, by batch id, each with what ends its send when the broker refuses it.</summary>
    readonly ConcurrentDictionary<Guid, CancellationTokenSource> _sending = new();

    /// <summary>Completes once the events are on the broker's disk.</summary>
    /// <exception cref="BrokerUnavailableException">Not confirmed within the timeout, or too many requests or bytes waiting.</exception>
    public async Task PublishAsync(EncodedEvents events, CancellationToken ct)
    {
        if (Interlocked.Add(ref _pendingBytes, events.Bytes) > options.Value.MaxPendingBytes)
        {
            Interlocked.Add(ref _pendingBytes, -events.Bytes);
            throw new BrokerUnavailableException("The API is waiting on the broker for too many bytes already.");
        }
        var pending = new Pending(events, Activity.Current?.Id, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_pending.Writer.TryWrite(pending))
        {
            Interlocked.Add(ref _pendingBytes, -events.Bytes);
            throw new BrokerUnavailableException("The API is waiting on the broker for too many requests already.");
        }
        try
        {
            await pending.Confirmed.Task.WaitAsync(options.Value.ConfirmTimeout, ct);
        }
        catch (TimeoutException e)
        {
            // Answered 503: if the events have not left yet, they never will (the client retries them).
            Abandon(pending);
            throw new BrokerUnavailableException($"The broker did not confirm within {options.Value.ConfirmTimeout.TotalSeconds:0.#} s.", e);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Abandon(pending); // the client is gone
            throw;
        }
    }

    void Abandon(Pending pending)
    {
        if (pending.Confirmed.TrySetCanceled()) Interlocked.Add(ref _pendingBytes, -pending.Events.Bytes);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _pending.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The exchange, not queue:{name}: MassTransit would declare the queue on the send side without its arguments
        // (no x-queue-type), which RabbitMQ refuses for a quorum queue. QueueDeclaration declared queue and binding.
        var endpoint = await bus.GetSendEndpoint(new Uri($"exchange:{broker.Value.Queue}"));
        using var refusals = bus.ConnectSendObserver(this);
        var reader = _pending.Reader;
        var window = options.Value.Window;
        var maxEvents = options.Value.MaxEventsPerMessage;
        var maxBytes = options.Value.MaxBytesPerMessage;
        // Reads until the channel is completed and drained (StopAsync), not until stoppingToken: accepted events are sent.
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            // A free slot first: while every slot waits on the broker, requests pile up and leave together.
            await _inFlight.WaitAsync(CancellationToken.None);
            // Idle, the events leave at once; while other messages await their confirm, the window gathers more.
            var gather = _inFlight.CurrentCount < options.Value.MaxInFlightMessages - 1 ? window : TimeSpan.Zero;
            var batch = new List<Pending>();
            var eventCount = 0;
            long bytes = 0;
            var deadline = Stopwatch.GetTimestamp() + (long)(gather.TotalSeconds * Stopwatch.Frequency);
            while (eventCount < maxEvents && bytes < maxBytes)
            {
                if (reader.TryRead(out var next))
                {
                    if (next.Confirmed.Task.IsCompleted) continue; // abandoned: its request has answered already
                    batch.Add(next);
                    eventCount += next.Events.Count;
                    bytes += next.Events.Bytes;
                    continue;
                }
                var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (remaining <= TimeSpan.Zero || reader.Completion.IsCompleted) break;
                using var wait = new CancellationTokenSource(remaining);
                try { await reader.WaitToReadAsync(wait.Token); }
                catch (OperationCanceledException) { break; }
            }
            if (batch.Count == 0)
            {
                _inFlight.Release();
                continue;
            }
            _ = SendAsync(endpoint, batch, eventCount);
        }
        // Wait for the last sends before the bus stops.
        for (var i = 0; i < options.Value.MaxInFlightMessages; i++) await _inFlight.WaitAsync(CancellationToken.None);
    }

    async Task SendAsync(ISendEndpoint endpoint, List<Pending> batch, int eventCount)
    {
        var message = new EncodedEventBatch(Guid.CreateVersion7(), DateTimeOffset.UtcNow, new EncodedEventList(batch.Select(p => p.Events).ToList()));
        using var timeout = new CancellationTokenSource(options.Value.ConfirmTimeout);
        using var refused = new CancellationTokenSource();
        using var send = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, refused.Token);
        _sending[message.BatchId] = refused;
        try
        {
            // The message continues the first request's trace; the header names every request's, for the worker to log.
            var traceParents = batch.Select(p => p.TraceParent).ToList();
            using var activity = IngestTracing.StartFor("publish events", ActivityKind.Producer, traceParents);
            var traceIds = string.Join(',', IngestTracing.TraceIds(traceParents));
            await endpoint.Send(message, ctx => ctx.Headers.Set(IngestHeaders.TraceIds, traceIds), send.Token);
            foreach (var pending in batch)
                if (pending.Confirmed.TrySetResult()) Interlocked.Add(ref _pendingBytes, -pending.Events.Bytes);
        }
        catch (Exception e)
        {
            var failure = refused.IsCancellationRequested
                ? new BrokerUnavailableException("The broker refused the events: its queue is full, or it could not store them.", e)
                : new BrokerUnavailableException("The broker did not confirm the events.", e);
            log.LogWarning("Broker message of {EventCount} events from {RequestCount} requests not confirmed: {Reason} {Error}", eventCount, batch.Count, failure.Message, e.Message);
            foreach (var pending in batch)
                if (pending.Confirmed.TrySetException(failure)) Interlocked.Add(ref _pendingBytes, -pending.Events.Bytes);
        }
        finally
        {
            _sending.TryRemove(message.BatchId, out _);
            _inFlight.Release();
        }
    }

    /// <summary>
    /// RabbitMQ refused a message (a nack: reject-publish at the queue's bound). MassTransit takes it for a connection
    /// failure and sends it again until the confirm timeout; its requests are answered 503 at once instead.
    /// </summary>
    public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class
    {
        if (context.Message is EncodedEventBatch message && IsNack(exception) && _sending.TryGetValue(message.BatchId, out var refused))
            refused.Cancel();
        return Task.CompletedTask;

        static bool IsNack(Exception? e) => e is RabbitMQ.Client.Exceptions.PublishException { IsReturn: false } || (e is not null && IsNack(e.InnerException));
    }

    public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

    public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;
}
