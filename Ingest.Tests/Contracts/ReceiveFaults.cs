using System.Collections.Concurrent;
using MassTransit;

namespace Ingest.Tests.Contracts;

/// <summary>
/// The messages the receive endpoint faulted before any consumer took them: what the worker's UnreadableMessageLog
/// sees (and logs) for a message it cannot read, and moves to the error queue.
/// </summary>
public sealed class ReceiveFaults : IReceiveObserver
{
    readonly ConcurrentQueue<Exception> _faults = new();

    public IReadOnlyList<Exception> Faults => [.. _faults];

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        _faults.Enqueue(exception);
        return Task.CompletedTask;
    }

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;
    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;
    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;
    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;
}
