using Dapper;
using Ingest.Database;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Ingest.Broker.DeadLetters;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Api.Operations;

/// <summary>
/// The pipeline's health as this API sees it, for the dashboard: the API itself; the broker (the ingest queue's depth,
/// its consumers and the dead-letter queue's depth, read with a passive declare); the workers (consumers on the queue
/// and the last committed transaction); the database (the primary, which the workers write). Like the transaction
/// log it has no source in it, so any read key sees it (<see cref="PipelineApi"/>). Each part is checked with a timeout and reported down with
/// the reason, so the answer is always 200; it is worked out at most once every two seconds, whoever asks.
/// </summary>
public sealed class PipelineHealth(IOptions<BrokerOptions> broker, NpgsqlDataSource primary, TimeProvider clock) : IDisposable
{
    const string SelectDatabaseState = """
        select (select finished_at from ingest_transactions where status = 'committed' order by started_at desc limit 1) as LastCommitAt,
               (select count(*) from ingest_transactions where status = 'failed' and started_at > now() - interval '1 hour') as FailedLastHour
        """;

    static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);
    static readonly TimeSpan Reuse = TimeSpan.FromSeconds(2);

    public sealed record Part(string Status, string Detail);
    public sealed record BrokerState(string Status, string Detail, string Queue, long? Messages, long? Consumers, long? DeadLetters);
    public sealed record DatabaseState(string Status, string Detail, DateTime? LastCommitAt, long? FailedLastHour);
    public sealed record Health(DateTimeOffset CheckedAt, Part Api, BrokerState Broker, Part Worker, DatabaseState Database);

    readonly SemaphoreSlim _checking = new(1, 1);
    Health? _last;

    public async Task<Ok<Health>> GetAsync(CancellationToken ct)
    {
        await _checking.WaitAsync(ct);
        try
        {
            if (_last is null || clock.GetUtcNow() - _last.CheckedAt > Reuse)
            {
                var brokerTask = BrokerAsync(ct);
                var databaseTask = DatabaseAsync(ct);
                var (queue, database) = (await brokerTask, await databaseTask);
                _last = new Health(clock.GetUtcNow(), new Part("up", $"{Environment.MachineName}, version {ServiceVersion.Current}"), queue, Worker(queue, database), database);
            }
            return TypedResults.Ok(_last);
        }
        finally
        {
            _checking.Release();
        }
    }

    public void Dispose() => _checking.Dispose();

    static Part Worker(BrokerState queue, DatabaseState database) => queue switch
    {
        { Consumers: > 0 } => new("up", $"{queue.Consumers} consumer(s) on {queue.Queue}" + (database.LastCommitAt is { } at ? $"; last commit {at:u}" : "")),
        { Consumers: 0 } => new("down", $"no worker consumes {queue.Queue}; {queue.Messages} message(s) wait there"),
        _ => new("unknown", "the broker cannot be asked"),
    };

    async Task<BrokerState> BrokerAsync(CancellationToken ct)
    {
        var options = broker.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            await using var connection = await options.ConnectAsync("ingest pipeline health", timeout.Token);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: timeout.Token);
            var queue = await channel.QueueDeclarePassiveAsync(options.Queue, timeout.Token);
            var deadLetters = await DeadLetterQueue.CountAsync(channel, options.ErrorQueue, timeout.Token);
            return new("up", $"{connection.Endpoint.HostName}:{connection.Endpoint.Port} answers", options.Queue, queue.MessageCount, queue.ConsumerCount, deadLetters);
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException or OperationCanceledException or System.Net.Sockets.SocketException && !ct.IsCancellationRequested)
        {
            return new("down", e is OperationCanceledException ? $"no answer within {CheckTimeout.TotalSeconds} s" : e.Message, options.Queue, null, null, null);
        }
    }

    async Task<DatabaseState> DatabaseAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            await using var conn = await primary.OpenConnectionAsync(timeout.Token);
            var (lastCommitAt, failed) = await conn.QuerySingleAsync<(DateTime?, long)>(new CommandDefinition(SelectDatabaseState, cancellationToken: timeout.Token));
            return new("up", $"{conn.Host}:{conn.Port} answers", lastCommitAt, failed);
        }
        catch (Exception e) when ((DatabaseAvailability.IsUnavailable(e) || e is OperationCanceledException) && !ct.IsCancellationRequested)
        {
            return new("down", e is OperationCanceledException ? $"no answer within {CheckTimeout.TotalSeconds} s" : e.Message, null, null);
        }
    }
}
