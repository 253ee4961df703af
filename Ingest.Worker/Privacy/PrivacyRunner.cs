using Dapper;
using Ingest.Database;
using Ingest.Database.Privacy;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Ingest.Broker.DeadLetters;
using Ingest.Worker.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Worker.Privacy;

/// <summary>
/// Carries out privacy requests in the background, one at a time per worker, in named steps:
/// <list type="number">
/// <item>claim the oldest pending request (or one whose worker went silent past ClaimTimeout), so that two workers
/// never run the same one, and a crashed worker's request is resumed by the next;</item>
/// <item>suppress or unsuppress its subjects (privacy_filters.suppressed_by: the API stops publishing them within its
/// key refresh, and the worker's insert skips any that got through);</item>
/// <item>for a deletion, record the erasure (privacy_filters.erased_before = the request's time), then wait for the
/// insert transactions that were running at that commit: every later insert skips the subjects' events received
/// before the request (migration 0106), so what was waiting in RabbitMQ or a worker's batch never lands;</item>
/// <item>delete the subjects' rows from events (every partition) and quarantined_events, BatchSize at a time, each
/// batch a short transaction that also adds its count to the request's receipt (exact across a crash);</item>
/// <item>rewrite the dead-letter queue without the subjects' events;</item>
/// <item>mark it done and forget the subjects' ids (their hashes stay in the audit record).</item>
/// </list>
/// Logs carry the request's id, type, source and counts, never a subject.
/// </summary>
public sealed class PrivacyRunner(NpgsqlDataSource db, IOptions<PrivacyOptions> options, IOptions<BrokerOptions> broker, ILogger<PrivacyRunner> log)
    : BackgroundService
{
    static readonly string WorkerHost = $"{Environment.MachineName}/{Environment.ProcessId}";

    const string ClaimNextRequest = """
        update privacy_requests
        set status = 'running', started_at = coalesce(started_at, clock_timestamp()), attempts = attempts + 1,
            claimed_by = @Worker, claimed_until = clock_timestamp() + @Timeout
        where id = (
            select id from privacy_requests
            where status = 'pending' or (status = 'running' and claimed_until < clock_timestamp())
            order by requested_at
            limit 1
            for update skip locked)
        returning id as Id, source_id as SourceId, type as Type, requested_at as RequestedAt, attempts as Attempts
        """;

    /// <summary>Holds the claim for another ClaimTimeout; no row when another worker has taken the request over.</summary>
    const string RenewClaim = """
        update privacy_requests set claimed_until = clock_timestamp() + @Timeout
        where id = @Id and claimed_by = @Worker and status = 'running'
        returning id
        """;

    const string SelectSubjects = "select kind as Kind, subject as Id from privacy_subjects where request_id = @Id order by ordinal";

    const string Suppress = """
        insert into privacy_filters (source_id, subject_hash, suppressed_by)
        select @SourceId, subject_hash, @Id from privacy_subjects where request_id = @Id
        on conflict (source_id, subject_hash) do update set suppressed_by = excluded.suppressed_by
        """;

    const string Unsuppress = """
        update privacy_filters set suppressed_by = null
        where source_id = @SourceId and subject_hash in (select subject_hash from privacy_subjects where request_id = @Id)
        """;

    /// <summary>Returns the snapshot taken after the erasure committed: its running transactions are those to wait for.</summary>
    const string Erase = """
        insert into privacy_filters (source_id, subject_hash, erased_before, erased_by)
        select @SourceId, subject_hash, @RequestedAt, @Id from privacy_subjects where request_id = @Id
        on conflict (source_id, subject_hash) do update
        set erased_before = greatest(privacy_filters.erased_before, excluded.erased_before),
            erased_by = case when privacy_filters.erased_before > excluded.erased_before then privacy_filters.erased_by else excluded.erased_by end
        """;

    const string SelectSnapshot = "select pg_current_snapshot()::text";

    const string AnyStillRunning = """
        select exists (select 1 from pg_snapshot_xip(@Snapshot::pg_snapshot) as x where pg_xact_status(x) = 'in progress')
        """;

    /// <summary>
    /// One batch of the user ids' events, through events_source_user_key_time on every partition (the list's filter
    /// <c>coalesce(user_id, anonymous_id) = X and user_id = X</c>). One statement per kind of id: with an <c>or</c> of
    /// both, PostgreSQL read the whole table for each batch (33 s for 10,000 of 1,000,000 rows in the benchmark).
    /// </summary>
    const string DeleteUserEventsBatch = """
        with doomed as (
            select id, stored_at from events
            where source_id = @SourceId and coalesce(user_id, anonymous_id) = any(@Ids) and user_id = any(@Ids)
            limit @BatchSize),
        gone as (
            delete from events e using doomed d
            where e.source_id = @SourceId and e.id = d.id and e.stored_at = d.stored_at
            returning 1)
        update privacy_requests set removed_events = removed_events + (select count(*) from gone)
        where id = @Id
        returning (select count(*) from gone)::int
        """;

    /// <summary>One batch of the anonymous ids' events, through events_source_anonymous_time on every partition.</summary>
    const string DeleteAnonymousEventsBatch = """
        with doomed as (
            select id, stored_at from events
            where source_id = @SourceId and anonymous_id = any(@Ids)
            limit @BatchSize),
        gone as (
            delete from events e using doomed d
            where e.source_id = @SourceId and e.id = d.id and e.stored_at = d.stored_at
            returning 1)
        update privacy_requests set removed_events = removed_events + (select count(*) from gone)
        where id = @Id
        returning (select count(*) from gone)::int
        """;

    const string DeleteQuarantineBatch = """
        with doomed as (
            select id from quarantined_events
            where source_id = @SourceId and (user_id = any(@UserIds) or anonymous_id = any(@AnonymousIds))
            limit @BatchSize),
        gone as (delete from quarantined_events q using doomed d where q.id = d.id returning 1)
        update privacy_requests set removed_quarantined = removed_quarantined + (select count(*) from gone)
        where id = @Id
        returning (select count(*) from gone)::int
        """;

    const string AddRemovedDeadLetters = "update privacy_requests set removed_dead_letters = removed_dead_letters + @Removed where id = @Id";

    const string MarkDone = """
        update privacy_requests set status = 'done', finished_at = clock_timestamp(), reason = null, claimed_by = null, claimed_until = null
        where id = @Id and claimed_by = @Worker;
        update privacy_subjects set subject = null where request_id = @Id;
        """;

    /// <summary>A failed attempt: retried when the claim runs out, unless it was the last one allowed.</summary>
    const string RecordFailure = """
        update privacy_requests
        set reason = @Reason,
            status = case when attempts >= @MaxAttempts then 'failed' else status end,
            finished_at = case when attempts >= @MaxAttempts then clock_timestamp() end
        where id = @Id and claimed_by = @Worker
        returning status
        """;

    sealed record Claimed(Guid Id, string SourceId, string Type, DateTime RequestedAt, int Attempts);

    /// <summary>The request's subjects split by kind, as the statements take them.</summary>
    sealed record Subjects(string[] UserIds, string[] AnonymousIds);

    sealed class ClaimLostException() : Exception("another worker has taken the request over");

    PrivacyOptions Options => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            Claimed? request = null;
            try
            {
                request = await ClaimAsync(stoppingToken);
                failures = 0;
                if (request is not null)
                {
                    await RunAsync(request, stoppingToken);
                    continue; // the next one at once
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return; // the claim runs out and another worker (or this one, restarted) resumes the request
            }
            catch (Exception e)
            {
                failures++;
                await FailAsync(request, e, stoppingToken);
            }
            // While the database keeps failing (down, read-only, a role without the privacy tables' grants), look less
            // often: up to a minute apart, so that a lasting fault costs a line a minute and not a pool cleared a second.
            var wait = failures == 0 ? Options.PollInterval
                : TimeSpan.FromTicks(Math.Max(Options.PollInterval.Ticks, Math.Min(Options.PollInterval.Ticks << Math.Min(failures, 10), TimeSpan.TicksPerMinute)));
            try { await Task.Delay(wait, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    async Task<Claimed?> ClaimAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Claimed>(new CommandDefinition(ClaimNextRequest, new { Worker = WorkerHost, Timeout = Options.ClaimTimeout }, cancellationToken: ct));
    }

    async Task RunAsync(Claimed request, CancellationToken ct)
    {
        using var scope = log.BeginScope(new Dictionary<string, object> { ["PrivacyRequestId"] = request.Id, ["SourceId"] = request.SourceId });
        log.LogInformation("Privacy request {PrivacyRequestId} {Status}: {RequestType} for source {SourceId}, attempt {Attempt}",
            request.Id, "running", request.Type, request.SourceId, request.Attempts);
        var started = TimeProvider.System.GetTimestamp();
        if (PrivacyRequestType.Suppresses(request.Type)) await RunStatementAsync(Suppress, request, ct);
        if (request.Type == PrivacyRequestType.Unsuppress) await RunStatementAsync(Unsuppress, request, ct);
        long events = 0, quarantined = 0, deadLetters = 0;
        if (PrivacyRequestType.Deletes(request.Type))
        {
            var subjects = await SubjectsAsync(request, ct);
            await EraseAsync(request, ct);
            events = await DeleteInBatchesAsync(DeleteUserEventsBatch, request, new { Ids = subjects.UserIds }, ct)
                + await DeleteInBatchesAsync(DeleteAnonymousEventsBatch, request, new { Ids = subjects.AnonymousIds }, ct);
            quarantined = await DeleteInBatchesAsync(DeleteQuarantineBatch, request, subjects, ct);
            deadLetters = await RewriteDeadLettersAsync(request, subjects, ct);
        }
        await using (var conn = await db.OpenConnectionAsync(ct))
            await conn.ExecuteAsync(new CommandDefinition(MarkDone, new { request.Id, Worker = WorkerHost }, cancellationToken: ct));
        log.LogInformation(
            "Privacy request {PrivacyRequestId} {Status}: {RequestType}, removed {RemovedEvents} events, {RemovedQuarantined} quarantined events, {RemovedDeadLetters} dead-lettered events in this attempt, {ElapsedMs} ms",
            request.Id, "done", request.Type, events, quarantined, deadLetters, (long)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
    }

    async Task RunStatementAsync(string sql, Claimed request, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql, new { request.Id, request.SourceId }, cancellationToken: ct));
    }

    async Task<Subjects> SubjectsAsync(Claimed request, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var all = (await conn.QueryAsync<(string Kind, string? Id)>(new CommandDefinition(SelectSubjects, new { request.Id }, cancellationToken: ct))).AsList();
        if (all.Any(s => s.Id is null))
            throw new InvalidOperationException("the request's subject ids are gone (it was done once already); submit a new request");
        return new Subjects(
            all.Where(s => s.Kind == SubjectHash.UserId).Select(s => s.Id!).ToArray(),
            all.Where(s => s.Kind == SubjectHash.AnonymousId).Select(s => s.Id!).ToArray());
    }

    /// <summary>
    /// Records the erasure and waits until every transaction that was running when it committed has ended: those may
    /// have inserted the subjects' events before it, unseen by the deletion that follows until they commit; every other
    /// insert sees the erasure (is_filtered reads it row by row) and skips them.
    /// </summary>
    async Task EraseAsync(Claimed request, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(Erase, new { request.Id, request.SourceId, request.RequestedAt }, cancellationToken: ct));
        var snapshot = await conn.ExecuteScalarAsync<string>(new CommandDefinition(SelectSnapshot, cancellationToken: ct));
        while (await conn.ExecuteScalarAsync<bool>(new CommandDefinition(AnyStillRunning, new { Snapshot = snapshot }, cancellationToken: ct)))
            await Task.Delay(100, ct);
    }

    /// <param name="ids">The statement's subject parameters (Ids, or UserIds and AnonymousIds); the request's own are added.</param>
    async Task<long> DeleteInBatchesAsync(string deleteBatch, Claimed request, object ids, CancellationToken ct)
    {
        var parameters = new DynamicParameters(ids);
        parameters.AddDynamicParams(new { request.Id, request.SourceId, Options.BatchSize });
        long total = 0;
        while (true)
        {
            await RenewClaimAsync(request, ct);
            await using var conn = await db.OpenConnectionAsync(ct);
            var deleted = await conn.ExecuteScalarAsync<int>(new CommandDefinition(deleteBatch, parameters, cancellationToken: ct));
            total += deleted;
            if (deleted < Options.BatchSize) return total;
        }
    }

    async Task<long> RewriteDeadLettersAsync(Claimed request, Subjects subjects, CancellationToken ct)
    {
        await RenewClaimAsync(request, ct);
        var match = new DeadLetterSubjects(request.SourceId, subjects.UserIds.ToHashSet(), subjects.AnonymousIds.ToHashSet());
        long removed = 0;
        await using var queue = await DeadLetterQueue.ConnectAsync(broker.Value, ct);
        await queue.RewriteAsync(letter =>
        {
            var (body, count) = match.Strip(letter.Body);
            removed += count;
            return body;
        }, ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(AddRemovedDeadLetters, new { request.Id, Removed = removed }, cancellationToken: ct));
        return removed;
    }

    async Task RenewClaimAsync(Claimed request, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(RenewClaim, new { request.Id, Worker = WorkerHost, Timeout = Options.ClaimTimeout }, cancellationToken: ct)) is null)
            throw new ClaimLostException();
    }

    /// <summary>
    /// Logs the failure (PostgreSQL's message and SQLSTATE only: a Detail can quote a row) and records it as the
    /// request's reason; the request is taken up again when its claim runs out, and marked failed after MaxAttempts.
    /// </summary>
    async Task FailAsync(Claimed? request, Exception e, CancellationToken ct)
    {
        var reason = DatabaseErrors.DescribeForLog(e);
        db.Clear(); // the next attempt on sessions opened after this failure
        if (request is null)
        {
            log.LogWarning("Could not look for privacy requests: {Error}", reason);
            return;
        }
        string? status = null;
        try
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            status = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(RecordFailure,
                new { request.Id, Reason = reason, Options.MaxAttempts, Worker = WorkerHost }, cancellationToken: ct));
        }
        catch (Exception recordError) when (recordError is NpgsqlException || DatabaseAvailability.IsUnavailable(recordError))
        {
            // the database is what failed: the claim runs out and the request is taken up again
        }
        log.LogError(e is ClaimLostException or NpgsqlException ? null : e,
            "Privacy request {PrivacyRequestId} {Status} on attempt {Attempt}: {Error}", request.Id, status == "failed" ? "failed" : "retrying", request.Attempts, reason);
    }
}
