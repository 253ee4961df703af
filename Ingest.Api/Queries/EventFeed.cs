using Npgsql;

namespace Ingest.Api.Queries;

/// <summary>
/// One LISTEN connection per API instance on the channel that the events table's statement trigger notifies after each
/// insert commits (0100_read_side.sql), waking every live-tail client at once. The payload is not trusted for content:
/// a woken client reads the rows itself, so a lost notification costs at most one poll interval.
/// </summary>
public sealed class EventFeed(NpgsqlDataSource db, ILogger<EventFeed> log) : BackgroundService
{
    const string Listen = "listen events_inserted";
    const string Ping = "select 1";

    TaskCompletionSource _next = NewSignal();

    /// <summary>Completes at the next notification (or when the LISTEN connection was re-established).</summary>
    public Task NextAsync => Volatile.Read(ref _next).Task;

    void Wake() => Interlocked.Exchange(ref _next, NewSignal()).TrySetResult();

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stoppingToken);
                conn.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand(Listen, conn)) await listen.ExecuteNonQueryAsync(stoppingToken);
                log.LogInformation("Live tail listening for stored events");
                Wake(); // rows stored while nobody listened are read now
                while (true)
                {
                    // A silent network failure would leave WaitAsync waiting forever: ping when nothing came for a while.
                    if (!await conn.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken))
                        await using (var ping = new NpgsqlCommand(Ping, conn)) await ping.ExecuteScalarAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("Live tail lost its LISTEN connection, clients poll until it is back: {Error}", e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}
