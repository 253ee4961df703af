using System.Diagnostics;
using Ingest.ServiceDefaults.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Ingest.Tests.Integration.Logging;

/// <summary>
/// What a log call costs the thread that makes it (a request or a consumer), through the Seq sink in each mode,
/// against a sink that does nothing; and the process CPU spent until Seq has every event (formatting and shipping
/// happen on the sink's own loop). Printed for the README; asserted only loosely (the box is shared).
/// </summary>
[CancelAfter(120_000), NonParallelizable]
public class When_logging_through_the_seq_sink
{
    const int Events = 50_000;
    static CancellationToken Ct => TestContext.CurrentContext.CancellationToken;

    sealed class NullSink : ILogEventSink
    {
        public void Emit(LogEvent logEvent) { }
    }

    static (double CallerMicroseconds, TimeSpan Cpu) Measure(ILogEventSink sink, Func<bool> delivered)
    {
        using var logger = new LoggerConfiguration().WriteTo.Sink(sink).Enrich.WithProperty("Service", "ingest-worker").CreateLogger();
        for (var i = 0; i < 2_000; i++) logger.Information("Warm-up {N}", i);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Events; i++)
            logger.Information("Transaction {TransactionId} committed {EventCount} events in {ElapsedMs} ms", i, 250, 3.25);
        var caller = clock.Elapsed.TotalMicroseconds / Events;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!delivered() && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.That(delivered(), Is.True, "every event reached Seq");
        return (caller, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    [Test]
    public async Task A_log_call_costs_the_caller_microseconds_and_everything_arrives()
    {
        await using var seq = await SeqListener.StartAsync(Ct);
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingest-seq-overhead-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            int Count() => seq.Requests.Where(r => r.Status == 201).Sum(r => r.Lines.Count(l => l.Contains("committed", StringComparison.Ordinal)));

            var none = Measure(new NullSink(), () => true);
            var memory = Measure(new SeqSink(new SeqSinkOptions { ServerUrl = seq.ServerUrl, Period = TimeSpan.FromMilliseconds(200) }), () => Count() >= Events);
            var durable = Measure(new SeqSink(new SeqSinkOptions { ServerUrl = seq.ServerUrl, Period = TimeSpan.FromMilliseconds(200), BufferPath = folder }), () => Count() >= 2 * Events);

            var report = $"""
                Logging {Events:N0} events (3 properties + 1 enriched), per event on the calling thread / process CPU until Seq had them all:
                  null sink:          {none.CallerMicroseconds,6:0.00} µs / {none.Cpu.TotalMilliseconds * 1000 / Events,6:0.00} µs
                  Seq sink, memory:   {memory.CallerMicroseconds,6:0.00} µs / {memory.Cpu.TotalMilliseconds * 1000 / Events,6:0.00} µs
                  Seq sink, durable:  {durable.CallerMicroseconds,6:0.00} µs / {durable.Cpu.TotalMilliseconds * 1000 / Events,6:0.00} µs
                """;
            await TestContext.Out.WriteLineAsync(report);
            await TestContext.Progress.WriteLineAsync(report);
            Assert.That(memory.CallerMicroseconds, Is.LessThan(50), "the memory-mode sink only queues on the caller's thread");
            Assert.That(durable.CallerMicroseconds, Is.LessThan(500), "the durable sink formats and writes a line on the caller's thread");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
