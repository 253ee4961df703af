using Ingest.Database;
using Ingest.Worker.Persistence;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Worker.Consuming;

/// <summary>
/// Releases the deliveries of a batch that has been failing for <see cref="WorkerOptions.ReleaseAfter"/>, before
/// RabbitMQ's consumer_timeout closes the channel under it: stops the event queue's receive endpoint (as MassTransit's
/// kill switch does), which cancels the batches in hand after <see cref="WorkerOptions.ConsumerStopTimeout"/> so their
/// messages go back to the queue unacknowledged, as at shutdown; then asks the database every
/// <see cref="WorkerOptions.ResumeProbeInterval"/> and starts the endpoint again once it answers, with the pool cleared. While paused the
/// worker holds no delivery and no batch.
/// </summary>
public sealed class ConsumerPause(NpgsqlDataSource db, IOptions<WorkerOptions> options, TimeProvider time, IHostApplicationLifetime lifetime,
    ILogger<ConsumerPause> log) : IReceiveEndpointObserver
{
    IReceiveEndpoint? _endpoint;
    int _paused;

    /// <summary>Whether the endpoint is stopped, or stopping, to release its deliveries.</summary>
    public bool IsPaused => Volatile.Read(ref _paused) == 1;

    /// <summary>Stops consuming until the database answers; a second call while paused does nothing.</summary>
    public void Release(TimeSpan failingFor, string error, string action)
    {
        if (_endpoint is not { } endpoint || Interlocked.Exchange(ref _paused, 1) == 1) return;
        log.LogError("Consumer {Status}: a batch failed for {FailingMs} ms ({Error}); its broker messages go back to the queue and the worker takes none until the database answers. {Action}",
            "paused", (long)failingFor.TotalMilliseconds, error, action);
        _ = Task.Run(() => PauseAsync(endpoint, lifetime.ApplicationStopping));
    }

    async Task PauseAsync(IReceiveEndpoint endpoint, CancellationToken stopping)
    {
        try
        {
            await endpoint.Stop(stopping);
            while (!await DatabaseAvailability.AnswersAsync(db, stopping))
                await Task.Delay(options.Value.ResumeProbeInterval, time, stopping);
            db.Clear(); // the batches taken from now on start on sessions opened after the fault, not on the probes'
            await endpoint.Start(stopping).Ready;
            log.LogInformation("Consumer {Status}: the database answers", "resumed");
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // the worker is stopping: its messages are in the queue already
        }
        catch (Exception e)
        {
            log.LogError(e, "Consumer {Status}: could not restart the receive endpoint. {Action}", "paused", "restart the worker");
        }
        finally
        {
            Volatile.Write(ref _paused, 0);
        }
    }

    public Task Ready(ReceiveEndpointReady ready)
    {
        _endpoint = ready.ReceiveEndpoint;
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;
    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;
    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
}
