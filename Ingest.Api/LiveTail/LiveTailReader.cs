using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Dapper;
using Ingest.Api.Events;
using Ingest.Api.ReadSide;
using Ingest.Database;
using Ingest.Database.Events;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Api.LiveTail;

/// <summary>
/// The live tail's one reader per API instance. A LISTEN connection on the channel that the events table's statement
/// trigger notifies after each insert commits (0100_read_side.sql; with no payload since 0109) wakes it; it also reads
/// every <see cref="QueryOptions.StreamPollInterval"/>, so a lost notification costs at most one interval.
/// Each read takes a snapshot and reads the rows of every source whose transactions that snapshot sees and the previous
/// one did not (0102_live_tail_commit_order.sql), in the order (xact_id, id), and hands each client the rows of its
/// source and event name. A row is read once, when its transaction has committed, however long that transaction ran.
/// A client further behind than <see cref="QueryOptions.StreamClientBuffer"/> rows is dropped, to reconnect with
/// Last-Event-ID; no more than <see cref="QueryOptions.MaxStreamConnections"/> clients are served at once.
/// Reads the primary, never ConnectionStrings:PostgresRead: a standby refuses LISTEN (see <see cref="ReadDatabase"/>).
/// </summary>
public sealed class LiveTailReader(NpgsqlDataSource db, IOptions<QueryOptions> options, IMeterFactory meters, ILogger<LiveTailReader> log)
    : BackgroundService
{
    public const string MeterName = "Ingest.Api.LiveTail";
    const int RowsPerChunk = 1000;

    const string Listen = "listen events_inserted";
    const string SelectSnapshot = "select pg_current_snapshot()::text";

    /// <summary>
    /// The rows whose transactions @Current sees and @Before does not, after a position, in tail order. Such a transaction
    /// began after @Before (xact_id at or past its xmax) or was in progress then (its xip list): two index ranges, so an
    /// open transaction costs nothing but its own rows, however long it runs.
    /// </summary>
    internal static readonly string SelectRowsCommittedBetween = $"""
        select * from (
            select xact_id as xact, xact_id::text::bigint as XactId, source_id as SourceId, {EventsTable.ReadSelectList}
            from events
            where (xact_id, id) > (@AfterXact::text::xid8, @AfterId)
              and xact_id >= pg_snapshot_xmax(@Before::pg_snapshot)
              and xact_id < pg_snapshot_xmax(@Current::pg_snapshot)
              and pg_visible_in_snapshot(xact_id, @Current::pg_snapshot)
            union all
            select xact_id, xact_id::text::bigint, source_id, {EventsTable.ReadSelectList}
            from events
            where (xact_id, id) > (@AfterXact::text::xid8, @AfterId)
              and xact_id = any(array(select pg_snapshot_xip(@Before::pg_snapshot)))
              and pg_visible_in_snapshot(xact_id, @Current::pg_snapshot)
        ) as committed
        order by xact, Id
        """;

    readonly Lock _gate = new();
    readonly List<Subscription> _subscribers = [];
    readonly List<Subscription> _joining = [];
    TailSnapshot? _seen; // every row this snapshot sees was handed out (or was there before any client)
    bool _reading;
    TailSnapshot? _unfinished; // the snapshot of a step that failed half-way, and the last row it handed out
    (long Xact, long Id) _after;
    volatile bool _databaseDown;
    TaskCompletionSource _wake = NewSignal();

    readonly Meter _meter = meters.Create(MeterName);
    Counter<long>? _reads;

    /// <summary>True while the last read failed because PostgreSQL could not be reached.</summary>
    public bool IsDatabaseDown => _databaseDown;

    /// <summary>A place in the fan-out for one client, or null when <see cref="QueryOptions.MaxStreamConnections"/> are served.</summary>
    public Subscription? Subscribe(string sourceId, string? eventName)
    {
        lock (_gate)
        {
            if (_subscribers.Count + _joining.Count >= options.Value.MaxStreamConnections) return null;
            var subscription = new Subscription(this, sourceId, eventName, options.Value.StreamClientBuffer);
            if (_reading || _seen is null)
            {
                _joining.Add(subscription); // joins when the read under way ends
                Wake();
            }
            else Join(subscription, _seen);
            return subscription;
        }
    }

    void Join(Subscription subscription, TailSnapshot seen)
    {
        _subscribers.Add(subscription);
        subscription.Joined.TrySetResult(seen);
    }

    void Leave(Subscription subscription)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscription);
            _joining.Remove(subscription);
        }
    }

    void Wake() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        _reads = _meter.CreateCounter<long>("ingest.live_tail.reads", description: "Reads of new rows by the live tail's poller");
        _meter.CreateObservableGauge("ingest.live_tail.connections", () => { lock (_gate) return _subscribers.Count + _joining.Count; },
            description: "Live-tail clients connected");
        await Task.WhenAll(ListenAsync(stoppingToken), PollAsync(stoppingToken));
    }

    async Task PollAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var woken = Volatile.Read(ref _wake).Task; // taken before reading: a notification during the read is not lost
            try
            {
                await ReadAsync(ct);
                if (_databaseDown) log.LogInformation("Live tail reading stored events again");
                _databaseDown = false;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (DatabaseAvailability.IsUnavailable(e))
            {
                db.Clear(); // see below
                if (!_databaseDown) log.LogWarning("Live tail cannot read stored events, retrying: {Error}", e.Message);
                _databaseDown = true;
            }
            catch (Exception e)
            {
                // Not worth stopping the API for (ingestion goes on); the clients wait, the next read tries again, on a
                // session opened after this failure (a statement_timeout or a failover reached the pooled ones), from
                // the same position: no row is skipped or handed out twice.
                db.Clear();
                log.LogError(e, "Live tail failed to read stored events, retrying");
            }
            try { await Task.WhenAny(woken, Task.Delay(options.Value.StreamPollInterval, ct)).WaitAsync(ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>
    /// One step: from the snapshot of the last read to a new one, every row in between handed to its clients. A step
    /// that fails half-way is finished by the next read, from the same snapshots and the last row handed out.
    /// </summary>
    async Task ReadAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        TailSnapshot before, current;
        if (_unfinished is { } unfinished)
        {
            before = _seen!;
            current = unfinished;
        }
        else
        {
            current = TailSnapshot.Parse(await conn.ExecuteScalarAsync<string>(new CommandDefinition(SelectSnapshot, cancellationToken: ct)) ?? "")
                ?? throw new InvalidOperationException("PostgreSQL returned a snapshot that cannot be read.");
            lock (_gate)
            {
                if (_seen is null || _subscribers.Count == 0)
                {
                    // Nobody to hand rows to: move on without reading them.
                    Finish(current);
                    return;
                }
                before = _seen;
                _reading = true;
                _unfinished = current;
                _after = (before.Xmin, 0);
            }
        }
        // One statement for the whole step, read as it comes and handed out in chunks: a large transaction is read once.
        await using (var reader = await conn.ExecuteReaderAsync(new CommandDefinition(SelectRowsCommittedBetween, new
        {
            AfterXact = _after.Xact,
            AfterId = _after.Id,
            Before = before.ToString(),
            Current = current.ToString(),
        }, cancellationToken: ct)))
        {
            _reads?.Add(1);
            var key = reader.GetRowParser<TailKey>(startIndex: 1, length: 2);
            var row = reader.GetRowParser<EventRow>(startIndex: 3);
            var chunk = new List<TailedRow>(RowsPerChunk);
            while (true)
            {
                var more = await reader.ReadAsync(ct);
                if (more)
                {
                    var k = key(reader);
                    chunk.Add(new TailedRow(k.XactId, k.SourceId, row(reader)));
                }
                if (chunk.Count == RowsPerChunk || (!more && chunk.Count > 0))
                {
                    var batch = new TailBatch(before, current, chunk);
                    lock (_gate)
                        foreach (var subscriber in _subscribers.ToList())
                            if (!subscriber.Offer(batch)) _subscribers.Remove(subscriber);
                    _after = (chunk[^1].XactId, chunk[^1].Row.Id);
                    chunk = new List<TailedRow>(RowsPerChunk);
                }
                if (!more) break;
            }
        }
        lock (_gate) Finish(current);
    }

    /// <summary>Under the gate: every row <paramref name="current"/> sees was handed out; waiting clients join from there.</summary>
    void Finish(TailSnapshot current)
    {
        _seen = current;
        _unfinished = null;
        _reading = false;
        foreach (var joining in _joining) Join(joining, current);
        _joining.Clear();
    }

    async Task ListenAsync(CancellationToken stoppingToken)
    {
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
                        await DatabaseAvailability.ProbeAsync(conn, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                db.Clear(); // listen again on a session opened after the failure
                log.LogWarning("Live tail lost its LISTEN connection, polling until it is back: {Error}", e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// One client's place in the fan-out: the rows of its source and event name, at most <c>capacity</c> waiting (or one
    /// chunk of <see cref="RowsPerChunk"/>, whichever is more).
    /// </summary>
    public sealed class Subscription(LiveTailReader feed, string sourceId, string? eventName, int capacity) : IDisposable
    {
        readonly Channel<TailBatch> _batches = Channel.CreateUnbounded<TailBatch>(new() { SingleReader = true, SingleWriter = true });
        int _pending;

        /// <summary>The snapshot from which this client receives rows: it receives every row of a later transaction.</summary>
        public TaskCompletionSource<TailSnapshot> Joined { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completed when the client fell <c>capacity</c> rows behind: it was dropped and must reconnect.</summary>
        public ChannelReader<TailBatch> Batches => _batches.Reader;

        /// <summary>Called by the reader once it wrote a batch to the client.</summary>
        public void Written(TailBatch batch) => Interlocked.Add(ref _pending, -batch.Rows.Count);

        /// <returns>False when the client is too far behind and was dropped.</returns>
        internal bool Offer(TailBatch batch)
        {
            var mine = batch.Rows.Where(r => r.SourceId == sourceId && (eventName is null || r.Row.Event == eventName)).ToList();
            if (mine.Count == 0) return true;
            var pending = Interlocked.Add(ref _pending, mine.Count);
            if (pending > capacity && pending > mine.Count) // one chunk alone is always taken: a large commit drops nobody
            {
                _batches.Writer.TryComplete(new ClientTooSlowException());
                return false;
            }
            return _batches.Writer.TryWrite(batch with { Rows = mine });
        }

        public void Dispose()
        {
            feed.Leave(this);
            _batches.Writer.TryComplete();
        }
    }
}
