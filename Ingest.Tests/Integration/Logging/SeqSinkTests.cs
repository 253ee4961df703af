using System.Collections.Concurrent;
using System.Text.Json;
using Ingest.ServiceDefaults.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Debugging;

namespace Ingest.Tests.Integration.Logging;

/// <summary>The sink against <see cref="SeqListener"/>, with timings in milliseconds instead of seconds.</summary>
public abstract class SeqSinkSpec
{
    protected SeqListener Seq { get; private set; } = null!;
    protected static CancellationToken Ct => TestContext.CurrentContext.CancellationToken;

    [SetUp]
    public async Task StartSeq() => Seq = await SeqListener.StartAsync(Ct);

    [TearDown]
    public async Task StopSeq() => await Seq.DisposeAsync();

    protected SeqSinkOptions Options(Action<SeqSinkOptions>? change = null)
    {
        var options = new SeqSinkOptions
        {
            ServerUrl = Seq.ServerUrl,
            Period = TimeSpan.FromMilliseconds(50),
            MinimumBackoff = TimeSpan.FromMilliseconds(50),
            MaximumBackoff = TimeSpan.FromMilliseconds(500),
            LossReportInterval = TimeSpan.Zero,
            RequestTimeout = TimeSpan.FromSeconds(5),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        };
        change?.Invoke(options);
        return options;
    }

    protected static Logger LoggerFor(SeqSink sink) => new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(sink).CreateLogger();

    protected static IEnumerable<int> Numbers(IEnumerable<JsonElement> events, string template) =>
        events.Where(e => e.GetProperty("@mt").GetString() == template).Select(e => e.GetProperty("N").GetInt32());

    protected static bool IsLossReport(JsonElement e) => e.GetProperty("@mt").GetString()!.StartsWith("Logging lost", StringComparison.Ordinal);

    protected static string TemporaryFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "ingest-seq-buffer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}

[CancelAfter(60_000)]
public class When_events_are_shipped_to_seq : SeqSinkSpec
{
    [Test]
    public async Task Each_event_is_one_clef_line_posted_to_the_raw_endpoint()
    {
        using var logger = LoggerFor(new SeqSink(Options()));
        logger.Information("Committed {EventCount} events for {Source}", 3, "web");
        logger.Warning(new InvalidOperationException("deadlock"), "Transaction {TransactionId} failed", 42);

        var events = await Seq.WaitForEventCountAsync(2, Ct);

        var request = Seq.Requests[0];
        Assert.That(request.Method, Is.EqualTo("POST"));
        Assert.That(request.Path, Is.EqualTo("/api/events/raw"));
        Assert.That(request.ContentType, Does.StartWith("application/vnd.serilog.clef"));
        Assert.That(request.ApiKey, Is.Null);
        var committed = events[0];
        Assert.That(committed.GetProperty("@mt").GetString(), Is.EqualTo("Committed {EventCount} events for {Source}"));
        Assert.That(committed.GetProperty("@t").GetString(), Does.EndWith("Z"));
        Assert.That(committed.GetProperty("@i").GetString(), Is.EqualTo(EventIdHash.Compute("Committed {EventCount} events for {Source}").ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(committed.TryGetProperty("@l", out _), Is.False);
        Assert.That(committed.GetProperty("EventCount").GetInt32(), Is.EqualTo(3));
        var failed = events[1];
        Assert.That(failed.GetProperty("@l").GetString(), Is.EqualTo("Warning"));
        Assert.That(failed.GetProperty("@x").GetString(), Does.Contain("deadlock"));
        Assert.That(failed.GetProperty("TransactionId").GetInt32(), Is.EqualTo(42));
    }

    [Test]
    public async Task The_api_key_goes_in_the_X_Seq_ApiKey_header()
    {
        using var logger = LoggerFor(new SeqSink(Options(o => o.ApiKey = "k3y-for-seq")));
        logger.Information("With a key");
        await Seq.WaitForEventCountAsync(1, Ct);
        Assert.That(Seq.Requests.Select(r => r.ApiKey), Is.All.EqualTo("k3y-for-seq"));
    }

    [Test]
    public async Task A_batch_holds_at_most_the_posting_limit_and_keeps_the_order()
    {
        using var logger = LoggerFor(new SeqSink(Options(o => (o.BatchPostingLimit, o.Period) = (10, TimeSpan.FromMilliseconds(200)))));
        for (var n = 0; n < 35; n++) logger.Information("Event {N}", n);

        var events = await Seq.WaitForEventCountAsync(35, Ct);

        Assert.That(Seq.Requests.Select(r => r.Lines.Count), Is.All.InRange(1, 10));
        Assert.That(Seq.Requests, Has.Count.GreaterThanOrEqualTo(4));
        Assert.That(Numbers(events, "Event {N}"), Is.EqualTo(Enumerable.Range(0, 35)));
    }

    [Test]
    public async Task Events_wait_for_the_period_instead_of_going_one_by_one()
    {
        var period = TimeSpan.FromMilliseconds(400);
        var created = DateTimeOffset.UtcNow;
        using var logger = LoggerFor(new SeqSink(Options(o => o.Period = period)));
        for (var n = 0; n < 5; n++) logger.Information("Event {N}", n);

        await Seq.WaitForEventCountAsync(5, Ct);

        Assert.That(Seq.Requests[0].ReceivedAt - created, Is.GreaterThanOrEqualTo(period - TimeSpan.FromMilliseconds(20)));
        Assert.That(Seq.Requests, Has.Count.EqualTo(1), "the five events travel together");
    }
}

[CancelAfter(60_000)]
public class When_seq_is_failing : SeqSinkSpec
{
    [Test]
    public async Task Server_errors_are_retried_until_seq_recovers_with_nothing_lost_or_duplicated()
    {
        Seq.AnswerNext(500, 503, 500);
        using var logger = LoggerFor(new SeqSink(Options()));
        for (var n = 0; n < 5; n++) logger.Information("Event {N}", n);

        var events = await Seq.WaitForEventCountAsync(5, Ct);

        Assert.That(Seq.Requests.Take(4).Select(r => r.Status), Is.EqualTo(new[] { 500, 503, 500, 201 }));
        Assert.That(Seq.Requests[3].Lines, Is.EqualTo(Seq.Requests[0].Lines), "the same batch is sent again");
        Assert.That(Numbers(events, "Event {N}"), Is.EqualTo(Enumerable.Range(0, 5)));
    }

    [Test]
    public async Task Dropped_connections_are_retried_until_seq_is_back()
    {
        Seq.GoDown();
        using var logger = LoggerFor(new SeqSink(Options()));
        for (var n = 0; n < 5; n++) logger.Information("Event {N}", n);
        await Eventually.HoldsAsync(() => Seq.Requests.Count >= 2, TimeSpan.FromSeconds(20), Ct);

        Seq.AnswerAll(201);

        var events = await Seq.WaitForEventCountAsync(5, Ct);
        Assert.That(Numbers(events, "Event {N}"), Is.EqualTo(Enumerable.Range(0, 5)));
    }

    [Test]
    public async Task Retries_back_off_exponentially()
    {
        // Period 20 ms, minimum backoff 100 ms: retries after 20 ms, then 200, 400, 800 ms.
        Seq.AnswerNext(500, 500, 500, 500);
        using var logger = LoggerFor(new SeqSink(Options(o => (o.Period, o.MinimumBackoff, o.MaximumBackoff) = (TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5)))));
        logger.Information("Event {N}", 0);

        await Seq.WaitForEventCountAsync(1, Ct);

        var at = Seq.Requests.Select(r => r.ReceivedAt).ToArray();
        Assert.That(at, Has.Length.EqualTo(5));
        var gaps = at.Zip(at.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToArray();
        Assert.That(gaps[1], Is.GreaterThanOrEqualTo(190), "2nd failure: 2 × 100 ms");
        Assert.That(gaps[2], Is.GreaterThanOrEqualTo(390), "3rd failure: 4 × 100 ms");
        Assert.That(gaps[3], Is.GreaterThanOrEqualTo(790), "4th failure: 8 × 100 ms");
    }

    [Test]
    public async Task The_backoff_is_capped()
    {
        Seq.AnswerNext(500, 500, 500, 500, 500);
        using var logger = LoggerFor(new SeqSink(Options(o => (o.Period, o.MinimumBackoff, o.MaximumBackoff) = (TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250)))));
        logger.Information("Event {N}", 0);

        await Seq.WaitForEventCountAsync(1, Ct);

        var at = Seq.Requests.Select(r => r.ReceivedAt).ToArray();
        var gaps = at.Zip(at.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToArray();
        Assert.That(gaps, Has.Length.EqualTo(5));
        Assert.That(gaps[2], Is.GreaterThanOrEqualTo(240), "3rd failure: 400 ms capped to 250");
        Assert.That(gaps[4], Is.LessThan(1000), "5th failure: 1600 ms uncapped, 250 capped");
    }
}

[CancelAfter(60_000)]
public class When_seq_refuses_a_payload : SeqSinkSpec
{
    [TestCase(400)]
    [TestCase(413)]
    public async Task It_is_not_sent_again_and_its_events_are_counted_and_reported(int status)
    {
        Seq.AnswerNext(status);
        var sink = new SeqSink(Options(o => (o.Period, o.BatchPostingLimit) = (TimeSpan.FromMilliseconds(300), 5)));
        using var logger = LoggerFor(sink);
        for (var n = 0; n < 5; n++) logger.Information("Refused {N}", n);
        await Eventually.HoldsAsync(() => Seq.Requests.Count >= 1, TimeSpan.FromSeconds(20), Ct);

        logger.Information("Accepted {N}", 5);

        var events = await Seq.WaitForEventsAsync(e => e.Any(IsLossReport) && Numbers(e, "Accepted {N}").Any(), TimeSpan.FromSeconds(20), Ct);
        Assert.That(sink.RejectedEventCount, Is.EqualTo(5));
        Assert.That(Seq.Requests.SelectMany(r => r.Lines).Count(l => l.Contains("Refused {N}", StringComparison.Ordinal)), Is.EqualTo(5), "each refused event was sent once");
        Assert.That(events.Where(IsLossReport).Sum(e => e.GetProperty("RejectedEventCount").GetInt64()), Is.EqualTo(5));
        Assert.That(events.First(IsLossReport).GetProperty("@l").GetString(), Is.EqualTo("Warning"));
    }
}

[CancelAfter(60_000)]
public class When_an_event_is_oversized : SeqSinkSpec
{
    [Test]
    public async Task It_is_replaced_by_a_placeholder_carrying_a_sample()
    {
        using var logger = LoggerFor(new SeqSink(Options(o => o.EventBodyLimitBytes = 2048)));
        logger.Information("Big {Payload}", new string('x', 5000));
        logger.Information("Small {N}", 1);

        var events = await Seq.WaitForEventCountAsync(2, Ct);

        var placeholder = events[0];
        Assert.That(placeholder.GetProperty("@mt").GetString(), Does.StartWith("Event JSON representation exceeds the body size limit"));
        Assert.That(placeholder.GetProperty("@l").GetString(), Is.EqualTo("Error"));
        Assert.That(placeholder.GetProperty("EventBodyLimitBytes").GetInt64(), Is.EqualTo(2048));
        Assert.That(placeholder.GetProperty("OriginalMessageTemplate").GetString(), Is.EqualTo("Big {Payload}"));
        var sample = placeholder.GetProperty("EventBodySample").GetString();
        Assert.That(sample, Has.Length.EqualTo(512).And.StartsWith("{\"@t\":").And.Contains("Big {Payload}"));
        Assert.That(placeholder.TryGetProperty("Payload", out _), Is.False);
        Assert.That(Numbers(events, "Small {N}"), Is.EqualTo(new[] { 1 }));
    }
}

[CancelAfter(60_000), NonParallelizable]
public class When_the_queue_overflows : SeqSinkSpec
{
    [Test]
    public async Task What_overflows_is_counted_reported_and_the_rest_arrives()
    {
        var selfLog = new ConcurrentQueue<string>();
        SelfLog.Enable(selfLog.Enqueue);
        try
        {
            Seq.GoDown();
            var sink = new SeqSink(Options(o => (o.QueueLimit, o.BatchPostingLimit) = (10, 5)));
            using var logger = LoggerFor(sink);
            for (var n = 0; n < 100; n++) logger.Information("Event {N}", n);
            await Eventually.HoldsAsync(() => Seq.Requests.Count >= 1, TimeSpan.FromSeconds(20), Ct);

            Seq.AnswerAll(201);

            var events = await Seq.WaitForEventsAsync(e => Numbers(e, "Event {N}").Count() + e.Where(IsLossReport).Sum(r => r.GetProperty("QueueOverflowCount").GetInt64()) == 100,
                TimeSpan.FromSeconds(20), Ct);
            Assert.That(sink.QueueOverflowCount, Is.GreaterThan(0));
            Assert.That(events.Where(IsLossReport).Sum(r => r.GetProperty("QueueOverflowCount").GetInt64()), Is.EqualTo(sink.QueueOverflowCount));
            Assert.That(Numbers(events, "Event {N}"), Is.Ordered.And.Unique);
            Assert.That(selfLog, Has.Some.Contains("the queue of 10 events is full"));
        }
        finally
        {
            SelfLog.Disable();
        }
    }
}

[CancelAfter(60_000)]
public class When_buffering_durably : SeqSinkSpec
{
    string _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = TemporaryFolder();

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task Events_logged_during_an_outage_arrive_in_order_once_seq_is_back()
    {
        Seq.GoDown();
        using var logger = LoggerFor(new SeqSink(Options(o => (o.BufferPath, o.BatchPostingLimit) = (_folder, 20))));
        for (var n = 0; n < 50; n++) logger.Information("Event {N}", n);
        await Eventually.HoldsAsync(() => Seq.Requests.Count >= 2, TimeSpan.FromSeconds(20), Ct);

        Seq.AnswerAll(201);

        var events = await Seq.WaitForEventCountAsync(50, Ct);
        Assert.That(Numbers(events, "Event {N}"), Is.EqualTo(Enumerable.Range(0, 50)));
    }

    [Test]
    public async Task A_restart_loses_nothing_and_sends_nothing_twice()
    {
        var first = LoggerFor(new SeqSink(Options(o => o.BufferPath = _folder)));
        for (var n = 0; n < 10; n++) first.Information("Before {N}", n);
        await Seq.WaitForEventCountAsync(10, Ct);
        Seq.GoDown();
        for (var n = 0; n < 20; n++) first.Information("During {N}", n);
        await Eventually.HoldsAsync(() => Seq.Requests.Any(r => r.Status == 0), TimeSpan.FromSeconds(20), Ct);
        first.Dispose(); // the process stops while Seq is down

        Seq.AnswerAll(201);
        using (var second = LoggerFor(new SeqSink(Options(o => o.BufferPath = _folder))))
        {
            for (var n = 0; n < 5; n++) second.Information("After {N}", n);
            await Seq.WaitForEventCountAsync(35, Ct);
        }

        var events = Seq.Events; // the second sink has been disposed (flushed): nothing more can come
        Assert.That(events, Has.Count.EqualTo(35));
        Assert.That(Numbers(events, "Before {N}"), Is.EqualTo(Enumerable.Range(0, 10)));
        Assert.That(Numbers(events, "During {N}"), Is.EqualTo(Enumerable.Range(0, 20)));
        Assert.That(Numbers(events, "After {N}"), Is.EqualTo(Enumerable.Range(0, 5)));
        var order = events.Select(e => e.GetProperty("@mt").GetString()![..e.GetProperty("@mt").GetString()!.IndexOf(' ')]).Distinct();
        Assert.That(order, Is.EqualTo(new[] { "Before", "During", "After" }));
    }

    [Test]
    public async Task Past_its_bound_the_buffer_drops_its_oldest_files_and_reports_how_many_events()
    {
        Seq.GoDown();
        // A period long enough that no shipping attempt holds the oldest file while the 100 events are written.
        var sink = new SeqSink(Options(o => (o.BufferPath, o.BufferFileSizeLimitBytes, o.BufferSizeLimitBytes, o.Period) = (_folder, 1024, 4096, TimeSpan.FromMilliseconds(300))));
        using var logger = LoggerFor(sink);
        for (var n = 0; n < 100; n++) logger.Information("Event {N} {Padding}", n, new string('p', 100));

        Assert.That(sink.BufferDroppedCount, Is.GreaterThan(0));
        Assert.That(Directory.GetFiles(_folder, "buffer-*.clef").Sum(f => new FileInfo(f).Length), Is.LessThanOrEqualTo(4096 + 1024));
        Seq.AnswerAll(201);

        var events = await Seq.WaitForEventsAsync(
            e => Numbers(e, "Event {N} {Padding}").Count() + e.Where(IsLossReport).Sum(r => r.GetProperty("BufferDroppedCount").GetInt64()) == 100,
            TimeSpan.FromSeconds(20), Ct);
        var arrived = Numbers(events, "Event {N} {Padding}").ToArray();
        Assert.That(arrived, Is.EqualTo(Enumerable.Range(100 - arrived.Length, arrived.Length)), "the newest events are kept, in order");
        Assert.That(events.Where(IsLossReport).Sum(r => r.GetProperty("BufferDroppedCount").GetInt64()), Is.EqualTo(sink.BufferDroppedCount));
    }

    [Test]
    public void A_second_process_on_the_same_folder_is_refused_at_start()
    {
        using var first = new SeqSink(Options(o => o.BufferPath = _folder));
        var error = Assert.Throws<IOException>(() => new SeqSink(Options(o => o.BufferPath = _folder)).Dispose());
        Assert.That(error!.Message, Does.Contain("in use by another process"));
    }

    [Test]
    public async Task A_refused_payload_is_kept_beside_the_buffer_and_shipping_goes_on()
    {
        Seq.AnswerNext(400);
        using var logger = LoggerFor(new SeqSink(Options(o => (o.BufferPath, o.Period) = (_folder, TimeSpan.FromMilliseconds(200)))));
        for (var n = 0; n < 3; n++) logger.Information("Refused {N}", n);
        await Eventually.HoldsAsync(() => Directory.GetFiles(_folder, "invalid-400-*.clef").Length == 1, TimeSpan.FromSeconds(20), Ct);

        logger.Information("Accepted {N}", 3);

        var events = await Seq.WaitForEventsAsync(e => Numbers(e, "Accepted {N}").Any(), TimeSpan.FromSeconds(20), Ct);
        var kept = await File.ReadAllLinesAsync(Directory.GetFiles(_folder, "invalid-400-*.clef").Single(), Ct);
        Assert.That(kept.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("N").GetInt32()), Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(Numbers(events, "Refused {N}"), Is.Empty);
    }
}
