using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;
using Serilog.Parsing;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>
/// Ships events to Seq's raw ingestion endpoint (POST {server}/api/events/raw, newline-delimited CLEF), in batches,
/// from a background loop, as the official Serilog.Sinks.Seq does (it is not obtainable here).
/// <para>
/// Non-durable mode: <see cref="Emit"/> puts the event on a bounded in-memory queue and returns; what does not fit is
/// counted. Durable mode (<see cref="SeqSinkOptions.BufferPath"/>): <see cref="Emit"/> appends the CLEF line to a
/// buffer file, and the loop ships from the files, moving a bookmark past what Seq accepted, so an outage or a
/// restart loses nothing.
/// </para>
/// <para>
/// Failures: a network error or any status but 2xx/400/413 keeps the batch and retries it with backoff, without
/// limit (the official batched sink drops a batch after 8 failures; here the bounded queue, or the bounded buffer,
/// is what gives way, and it is counted). 400 and 413 mean Seq read the request and refused the payload: as the
/// official durable shipper does, it is not retried, it is counted, and in durable mode written to an
/// invalid-*.clef file beside the buffer. Every loss is written to SelfLog and reported to Seq as a warning event
/// (at most once a <see cref="SeqSinkOptions.LossReportInterval"/>).
/// </para>
/// </summary>
public sealed class SeqSink : ILogEventSink, IDisposable
{
    const string ClefMediaType = "application/vnd.serilog.clef";
    const int SampleLength = 512;
    static readonly MessageTemplateParser Templates = new();
    static readonly MessageTemplate OversizeTemplate = Templates.Parse(
        "Event JSON representation exceeds the body size limit {EventBodyLimitBytes}; sample: {EventBodySample}");
    static readonly MessageTemplate UnformattableTemplate = Templates.Parse(
        "Event with message template {OriginalMessageTemplate} could not be formatted as JSON");
    static readonly MessageTemplate LossTemplate = Templates.Parse(
        "Logging lost {LostEventCount} events: {QueueOverflowCount} overflowed the queue, {RejectedEventCount} were refused by Seq, {BufferDroppedCount} were dropped from the full buffer");

    readonly SeqSinkOptions _options;
    readonly TimeProvider _time;
    readonly HttpClient _http;
    readonly Uri _endpoint;
    readonly ClefFormatter _formatter = new(renderMessage: false);
    readonly LogEventProperty[] _identity;
    readonly Channel<LogEvent>? _queue;
    readonly DurableBuffer? _buffer;
    readonly CancellationTokenSource _stopping = new();
    readonly Task _shipping;

    // Owned by the shipping loop.
    readonly Queue<string> _reports = new();
    string? _carried;
    Batch? _retrying;
    long _reportedOverflow, _reportedRejected, _reportedDropped;
    DateTimeOffset _lastReport;

    long _queueOverflow, _rejected;
    int _disposed;

    /// <param name="identity">Properties the sink's own events (placeholders, loss reports) carry: Service, Host…</param>
    public SeqSink(SeqSinkOptions options, IEnumerable<LogEventProperty>? identity = null, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ServerUrl)) throw new ArgumentException("Ingest:Seq:ServerUrl is required", nameof(options));
        if (options.PayloadLimitBytes < options.EventBodyLimitBytes + 8192)
            throw new ArgumentException("Ingest:Seq:PayloadLimitBytes must exceed EventBodyLimitBytes by 8 KiB", nameof(options));

        _options = options;
        _time = time ?? TimeProvider.System;
        _identity = identity?.ToArray() ?? [];
        _endpoint = new Uri(options.ServerUrl.TrimEnd('/') + "/api/events/raw");
        if (options.BufferPath is null)
            _queue = Channel.CreateBounded<LogEvent>(new BoundedChannelOptions(options.QueueLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        else
            _buffer = new DurableBuffer(options.BufferPath, options.BufferFileSizeLimitBytes, options.BufferSizeLimitBytes);
        // A bounded connection lifetime, so a Seq that moves (DNS) is found again (as the official sink does).
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = options.RequestTimeout };
        _lastReport = _time.GetUtcNow();
        _shipping = Task.Run(ShipUntilStoppedAsync);
    }

    /// <summary>Events that did not fit in the in-memory queue, since start.</summary>
    public long QueueOverflowCount => Interlocked.Read(ref _queueOverflow);

    /// <summary>Events in payloads Seq refused with 400 or 413, since start.</summary>
    public long RejectedEventCount => Interlocked.Read(ref _rejected);

    /// <summary>Unshipped events deleted with the oldest buffer files past the bound (or not writable), since start.</summary>
    public long BufferDroppedCount => _buffer?.DroppedEventCount ?? 0;

    public void Emit(LogEvent logEvent)
    {
        if (_buffer is not null)
        {
            _buffer.Append(FormatLine(logEvent));
            return;
        }
        if (_queue!.Writer.TryWrite(logEvent)) return;
        if (Interlocked.Increment(ref _queueOverflow) == 1)
            SelfLog.WriteLine("Seq sink: the queue of {0} events is full; further events are counted and dropped until it drains", _options.QueueLimit);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _queue?.Writer.TryComplete();
        _stopping.Cancel();
        try
        {
            if (!_shipping.Wait(_options.ShutdownTimeout + TimeSpan.FromSeconds(5)))
                SelfLog.WriteLine("Seq sink: shipping did not finish within the shutdown timeout");
        }
        catch (Exception ex)
        {
            SelfLog.WriteLine("Seq sink: shipping failed at shutdown: {0}", ex);
        }
        _buffer?.Dispose();
        _http.Dispose();
        _stopping.Dispose();
    }

    async Task ShipUntilStoppedAsync()
    {
        var failures = 0;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(SeqBackoff.Next(failures, _options.Period, _options.MinimumBackoff, _options.MaximumBackoff), _time, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            failures = await ShipAsync(failures, CancellationToken.None);
        }

        // Shutdown: ship what is left, once, within the timeout. In durable mode what fails stays on disk.
        using var deadline = new CancellationTokenSource(_options.ShutdownTimeout, _time);
        ReportLoss(force: true);
        if (await ShipAsync(failures, deadline.Token) > 0 && _queue is not null)
        {
            var left = (_retrying?.Count ?? 0) + _queue.Reader.Count + _reports.Count + (_carried is null ? 0 : 1);
            SelfLog.WriteLine("Seq sink: Seq was unavailable at shutdown; {0} queued events were not shipped", left);
        }
    }

    /// <summary>Ships batches until the queue or buffer is empty or a request fails; returns the failure count.</summary>
    async Task<int> ShipAsync(int failures, CancellationToken cancellationToken)
    {
        try
        {
            ReportLoss(force: false);
            while (true)
            {
                var batch = _retrying ?? NextBatch();
                if (batch is null) return 0;
                _retrying = _queue is null ? null : batch;

                HttpStatusCode status;
                try
                {
                    status = await PostAsync(batch.Payload, cancellationToken);
                }
                catch (Exception ex)
                {
                    _buffer?.Abandon();
                    SelfLog.WriteLine("Seq sink: posting {0} events failed (attempt {1}): {2}", batch.Count, failures + 1, ex.Message);
                    return failures + 1;
                }

                if (status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge)
                {
                    // Seq read the request and refused its content: sending it again would fail again.
                    Interlocked.Add(ref _rejected, batch.Count);
                    SelfLog.WriteLine("Seq sink: Seq refused a payload of {0} events with {1}; sample: {2}",
                        batch.Count, (int)status, Encoding.UTF8.GetString(batch.Payload.Span[..Math.Min(batch.Payload.Length, SampleLength)]));
                    _buffer?.DumpInvalid(batch.Payload, (int)status, _options.RetainedInvalidPayloadsLimitBytes);
                }
                else if ((int)status is < 200 or > 299)
                {
                    _buffer?.Abandon();
                    SelfLog.WriteLine("Seq sink: posting {0} events answered {1} (attempt {2})", batch.Count, (int)status, failures + 1);
                    return failures + 1;
                }

                failures = 0;
                _retrying = null;
                if (batch.End is { } end) _buffer!.Commit(end);
                if (!batch.Full) return 0;
            }
        }
        catch (Exception ex)
        {
            SelfLog.WriteLine("Seq sink: shipping failed: {0}", ex);
            return failures + 1;
        }
    }

    async Task<HttpStatusCode> PostAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ReadOnlyMemoryContent(payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(ClefMediaType) { CharSet = "utf-8" };
        if (!string.IsNullOrWhiteSpace(_options.ApiKey)) request.Headers.Add("X-Seq-ApiKey", _options.ApiKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        return response.StatusCode;
    }

    Batch? NextBatch()
    {
        if (_buffer is not null)
            return _buffer.Read(_options.BatchPostingLimit, _options.PayloadLimitBytes) is { } read
                ? new Batch(read.Payload, read.Count, read.Full, read.End)
                : null;

        var payload = new StringBuilder();
        long bytes = 0;
        var count = 0;
        while (count < _options.BatchPostingLimit)
        {
            string line;
            if (_carried is not null) (line, _carried) = (_carried, null);
            else if (_reports.TryDequeue(out var report)) line = report;
            else if (_queue!.Reader.TryRead(out var logEvent)) line = FormatLine(logEvent);
            else break;

            var size = Encoding.UTF8.GetByteCount(line);
            if (bytes + size > _options.PayloadLimitBytes)
            {
                _carried = line;
                break;
            }
            payload.Append(line);
            bytes += size;
            count++;
        }
        if (count == 0) return null;
        var full = count == _options.BatchPostingLimit || _carried is not null;
        return new Batch(Encoding.UTF8.GetBytes(payload.ToString()), count, full, null);
    }

    /// <summary>The event as one CLEF line; a placeholder when it cannot be formatted or exceeds the body limit.</summary>
    internal string FormatLine(LogEvent logEvent)
    {
        string line;
        try
        {
            line = _formatter.Format(logEvent);
        }
        catch (Exception ex)
        {
            SelfLog.WriteLine("Seq sink: event with message template {0} could not be formatted: {1}", logEvent.MessageTemplate.Text, ex);
            return _formatter.Format(Placeholder(logEvent, UnformattableTemplate, ex,
                new LogEventProperty("OriginalMessageTemplate", new ScalarValue(logEvent.MessageTemplate.Text))));
        }

        // '\n' is not part of the event body.
        if (line.Length * 3L <= _options.EventBodyLimitBytes || Encoding.UTF8.GetByteCount(line) - 1 <= _options.EventBodyLimitBytes)
            return line;

        var sample = line[..Math.Min(line.Length, SampleLength)];
        SelfLog.WriteLine("Seq sink: an event exceeds the body size limit of {0} bytes and is replaced by a placeholder; sample: {1}", _options.EventBodyLimitBytes, sample);
        return _formatter.Format(Placeholder(logEvent, OversizeTemplate, null,
            new LogEventProperty("EventBodyLimitBytes", new ScalarValue(_options.EventBodyLimitBytes)),
            new LogEventProperty("EventBodySample", new ScalarValue(sample)),
            new LogEventProperty("OriginalMessageTemplate", new ScalarValue(logEvent.MessageTemplate.Text))));
    }

    LogEvent Placeholder(LogEvent original, MessageTemplate template, Exception? exception, params LogEventProperty[] properties) =>
        new(original.Timestamp, LogEventLevel.Error, exception, template, properties.Concat(_identity),
            original.TraceId ?? default, original.SpanId ?? default);

    /// <summary>Turns the loss counters into a warning event for Seq (and SelfLog), at most once an interval.</summary>
    void ReportLoss(bool force)
    {
        var overflow = QueueOverflowCount - _reportedOverflow;
        var rejected = RejectedEventCount - _reportedRejected;
        var dropped = BufferDroppedCount - _reportedDropped;
        if (overflow + rejected + dropped == 0) return;
        var now = _time.GetUtcNow();
        if (!force && now - _lastReport < _options.LossReportInterval) return;

        _reportedOverflow += overflow;
        _reportedRejected += rejected;
        _reportedDropped += dropped;
        _lastReport = now;
        var report = new LogEvent(now, LogEventLevel.Warning, null, LossTemplate, new[]
        {
            new LogEventProperty("LostEventCount", new ScalarValue(overflow + rejected + dropped)),
            new LogEventProperty("QueueOverflowCount", new ScalarValue(overflow)),
            new LogEventProperty("RejectedEventCount", new ScalarValue(rejected)),
            new LogEventProperty("BufferDroppedCount", new ScalarValue(dropped)),
        }.Concat(_identity));
        SelfLog.WriteLine("Seq sink: {0}", report.RenderMessage());
        var line = _formatter.Format(report);
        if (_buffer is not null) _buffer.Append(line);
        else _reports.Enqueue(line);
    }

    sealed record Batch(ReadOnlyMemory<byte> Payload, int Count, bool Full, DurableBuffer.Position? End);
}

/// <summary>The official sink's retry schedule: the period after one failure, then doubling from max(period, minimum).</summary>
public static class SeqBackoff
{
    public static TimeSpan Next(int failures, TimeSpan period, TimeSpan minimumBackoff, TimeSpan maximumBackoff)
    {
        if (failures <= 1) return period;
        var backoff = Math.Max(period.Ticks, minimumBackoff.Ticks) * Math.Pow(2, failures - 1);
        return TimeSpan.FromTicks((long)Math.Min(backoff, maximumBackoff.Ticks));
    }
}
