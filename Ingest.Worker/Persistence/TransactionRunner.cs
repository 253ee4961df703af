using Ingest.Contracts;
using Ingest.Database;
using Ingest.Worker.Consuming;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Ingest.Worker.Persistence;

/// <summary>
/// Runs one batch write as a transaction of the transaction log: paces it (<see cref="WriteRateLimiter"/>), writes it
/// (<see cref="EventWriter"/>), records its failed attempts (<see cref="TransactionLog"/>), and logs every step with
/// stable property names (TransactionId, Status, EventCount, Inserted, Duplicates, Quarantined, ElapsedMs, Attempt,
/// Error, Action). Error is PostgreSQL's message and SQLSTATE without its Detail, and for a quarantined event without
/// the quoted value (<see cref="DatabaseErrors.ReasonForLog"/>): no personal data in the log; the database keeps the
/// whole reason. Every failure that is not the data's
/// (<see cref="DatabaseErrors.IsRetried"/>: transient or not, the database's, the deployment's or the worker's own) is
/// retried here, and only here, with exponential backoff and jitter up to <see cref="WorkerOptions.RetryMaxDelay"/>,
/// for as long as it lasts: the batch stays unacknowledged in RabbitMQ meanwhile, RabbitMQ delivers no more than the
/// prefetch count, and each failed attempt is logged with the Action ops must take, at level Error unless it is a
/// transient failure that has not yet lasted <see cref="AlertAfterAttempts"/> attempts. A batch still failing after
/// <see cref="WorkerOptions.ReleaseAfter"/> is released (<see cref="ConsumerPause"/>): its messages go back to the queue
/// before RabbitMQ's consumer_timeout would close the channel, and the worker waits for the database holding nothing.
/// Every attempt after a failed one runs on database sessions opened after that failure: the pool is cleared first
/// (<see cref="NpgsqlDataSource.Clear"/>), so a fix that lives in a session (a setting reset, a re-grant, a failover behind
/// the same host name) is taken up at the next attempt instead of when Npgsql prunes idle connections minutes later.
/// </summary>
public sealed class TransactionRunner : IEventBatchStore
{
    static readonly ResiliencePropertyKey<BatchState> BatchKey = new("Ingest.Batch");
    /// <summary>A transient failure (an outage, a deadlock) is a Warning for this many attempts, then an alert.</summary>
    const int AlertAfterAttempts = 5;

    static readonly string WorkerHost = $"{Environment.MachineName}/{Environment.ProcessId}";

    readonly NpgsqlDataSource _db;
    readonly EventWriter _writer;
    readonly TransactionLog _transactionLog;
    readonly WriteRateLimiter _limiter;
    readonly TimeProvider _time;
    readonly ILogger<TransactionRunner> _log;
    readonly ConsumerPause _pause;
    readonly TimeSpan _releaseAfter;
    readonly ResiliencePipeline _retry;

    public TransactionRunner(NpgsqlDataSource db, EventWriter writer, TransactionLog transactionLog, WriteRateLimiter limiter, ConsumerPause pause, IOptions<WorkerOptions> options, TimeProvider time,
        ILogger<TransactionRunner> log)
    {
        _db = db;
        _writer = writer;
        _transactionLog = transactionLog;
        _limiter = limiter;
        _time = time;
        _log = log;
        _pause = pause;
        _releaseAfter = options.Value.ReleaseAfter;
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && DatabaseErrors.IsRetried(e, args.Context.CancellationToken)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.Value.RetryBaseDelay,
                MaxDelay = options.Value.RetryMaxDelay,
                MaxRetryAttempts = int.MaxValue,
                OnRetry = OnRetryAsync,
            })
            .Build();
    }

    public async Task<WriteResult> WriteAsync(int brokerMessages, IReadOnlyList<AnalyticsEvent> events, CancellationToken ct)
    {
        var batch = new BatchState(Guid.CreateVersion7(), brokerMessages, events);
        using var scope = _log.BeginScope(new Dictionary<string, object> { ["TransactionId"] = batch.TransactionId });
        _log.LogInformation("Transaction {TransactionId} {Status}: {EventCount} events from {BrokerMessages} broker messages",
            batch.TransactionId, "started", events.Count, brokerMessages);

        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(BatchKey, batch);
        try
        {
            await _limiter.WaitAsync(events.Count, ct);
            return await _retry.ExecuteAsync(static (ctx, self) => self.AttemptAsync(ctx.Properties.GetValue(BatchKey, null!), ctx.CancellationToken), context, this);
        }
        catch (OperationCanceledException e) when (ct.IsCancellationRequested && _pause.IsPaused)
        {
            // The consumer paused (ConsumerPause logged why and what ops must do): this batch's messages go back to the queue.
            _log.LogWarning("Transaction {TransactionId} {Status} on attempt {Attempt}: {Error}", batch.TransactionId, "released", batch.Attempt,
                (batch.FailingSince is not { } since ? "not committed" : $"not committed after failing for {(long)(_time.GetUtcNow() - since).TotalMilliseconds} ms")
                + ": the consumer paused until the database answers, and the batch's broker messages go back to the queue unacknowledged for redelivery");
            throw new OperationCanceledException(e.Message, e, ct);
        }
        catch (OperationCanceledException e) when (ct.IsCancellationRequested)
        {
            _log.LogWarning("Transaction {TransactionId} {Status} on attempt {Attempt}: {Error}", batch.TransactionId, "failed", batch.Attempt,
                "worker stopping; the batch is not committed and its broker messages stay unacknowledged for redelivery");
            throw new OperationCanceledException(e.Message, e, ct);
        }
        catch (Exception e)
        {
            var error = DatabaseErrors.Describe(e);
            _log.LogError(e is NpgsqlException ? null : e, "Transaction {TransactionId} {Status} on attempt {Attempt}: {Error}. {Action}", batch.TransactionId, "failed", batch.Attempt,
                DatabaseErrors.DescribeForLog(e), DatabaseErrors.Action(e));
            await _transactionLog.TryRecordFailureAsync(batch.CurrentAttempt(), events.Count, batch.Failure(_time.GetUtcNow().UtcDateTime, error), ct);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    async ValueTask<WriteResult> AttemptAsync(BatchState batch, CancellationToken ct)
    {
        batch.Begin(_time.GetUtcNow().UtcDateTime);
        // Sessions opened before the failure, or during the wait (a probe, another batch), may keep what caused it: a
        // read-only or timeout setting, a connection to the old primary. Only after a failure: the happy path reuses them.
        if (batch.Attempt > 1) _db.Clear();
        var started = _time.GetTimestamp();
        var result = await _writer.WriteAsync(batch.CurrentAttempt(), batch.Events, ct);
        batch.UnrecordedFailure = null;
        foreach (var refused in result.Quarantined)
            _log.LogWarning("Transaction {TransactionId} {Status} event {SourceId}/{MessageId}: {Error}",
                batch.TransactionId, "quarantined", refused.Event.SourceId, refused.Event.MessageId, DatabaseErrors.ReasonForLog(refused.Reason));
        _log.LogInformation(
            "Transaction {TransactionId} {Status}: {EventCount} events, {Inserted} inserted, {Duplicates} duplicates, {Quarantined} quarantined, attempt {Attempt}, {ElapsedMs} ms",
            batch.TransactionId, "committed", batch.Events.Count, result.Inserted, result.Duplicates, result.Quarantined.Count, batch.Attempt,
            (long)_time.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }

    async ValueTask OnRetryAsync(OnRetryArguments<object> args)
    {
        var batch = args.Context.Properties.GetValue(BatchKey, null!);
        var exception = args.Outcome.Exception!;
        var error = DatabaseErrors.Describe(exception);
        var logged = DatabaseErrors.DescribeForLog(exception);
        var action = DatabaseErrors.Action(exception);
        var level = DatabaseAvailability.IsUnavailable(exception) && batch.Attempt < AlertAfterAttempts ? LogLevel.Warning : LogLevel.Error;
        // The stack trace is for the worker's own faults; a database's answer is all in Error.
        _log.Log(level, exception is NpgsqlException ? null : exception, "Transaction {TransactionId} {Status} on attempt {Attempt}: {Error}. {Action}", batch.TransactionId, "failed", batch.Attempt, logged,
            action);
        var now = _time.GetUtcNow();
        batch.UnrecordedFailure = batch.Failure(now.UtcDateTime, error);
        var failingFor = now - (batch.FailingSince ??= now);
        if (failingFor >= _releaseAfter)
            _pause.Release(failingFor, logged, action);
        if (await _transactionLog.TryRecordFailureAsync(batch.CurrentAttempt(), batch.Events.Count, batch.UnrecordedFailure, args.Context.CancellationToken))
            batch.UnrecordedFailure = null;
        _log.LogWarning("Transaction {TransactionId} {Status}: attempt {Attempt} in {DelayMs} ms, on new database sessions (pool renewed: {PoolRenewed})",
            batch.TransactionId, "retrying", batch.Attempt + 1, (long)args.RetryDelay.TotalMilliseconds, true);
    }

    /// <summary>What one batch carries from attempt to attempt.</summary>
    sealed class BatchState(Guid transactionId, int brokerMessages, IReadOnlyList<AnalyticsEvent> events)
    {
        public Guid TransactionId { get; } = transactionId;
        public int BrokerMessages { get; } = brokerMessages;
        public IReadOnlyList<AnalyticsEvent> Events { get; } = events;
        public int Attempt { get; private set; }
        public DateTime AttemptStartedAt { get; private set; }

        /// <summary>When its first attempt failed; null while none has.</summary>
        public DateTimeOffset? FailingSince { get; set; }

        /// <summary>The last failed attempt when the database could not record it; the next attempt records it with its commit.</summary>
        public FailedAttempt? UnrecordedFailure { get; set; }

        public void Begin(DateTime now)
        {
            Attempt++;
            AttemptStartedAt = now;
        }

        public TransactionAttempt CurrentAttempt() => new(TransactionId, WorkerHost, BrokerMessages, Math.Max(Attempt, 1), AttemptStartedAt, UnrecordedFailure);

        public FailedAttempt Failure(DateTime now, string error) => new(Math.Max(Attempt, 1), AttemptStartedAt == default ? now : AttemptStartedAt, now, error);
    }
}
