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

    /// <summary>Does nothing but count: the cost of Serilog itself (template, properties, enrichment).</summary>
    sealed class NullSink : ILogEventSink
    {
        public long Count;
        public void Emit(LogEvent logEvent) => Count++;
    }

    /// <summary>Best of three runs (the box is shared): caller time per event, and process CPU per event until delivered.</summary>
    static (double CallerMicroseconds, double CpuMicroseconds) Measure(Func<ILogEventSink> createSink, Func<long> delivered)
    {
        var best = (Caller: double.MaxValue, Cpu: double.MaxValue);
        for (var run = 0; run < 3; run++)
        {
            var before = delivered();
            using var logger = new LoggerConfiguration().WriteTo.Sink(createSink()).Enrich.WithProperty("Service", "ingest-worker").CreateLogger();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Events; i++)
                logger.Information("Transaction {TransactionId} committed {EventCount} events in {ElapsedMs} ms", i, 250, 3.25);
            var caller = clock.Elapsed.TotalMicroseconds / Events;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (delivered() - before < Events && DateTime.UtcNow < deadline) Thread.Sleep(5);
            Assert.That(delivered() - before, Is.EqualTo(Events), "every event reached Seq, once");
            var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / Events;
            best = (Math.Min(best.Caller, caller), Math.Min(best.Cpu, used));
        }
        return best;
    }

    [Test]
    public async Task A_log_call_costs_the_caller_microseconds_and_everything_arrives()
    {
        await using var seq = await SeqListener.StartAsync(Ct);
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingest-seq-overhead-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            var nulls = new NullSink();
            var none = Measure(() => nulls, () => nulls.Count);
            var memory = Measure(() => new SeqSink(new SeqSinkOptions { ServerUrl = seq.ServerUrl, Period = TimeSpan.FromMilliseconds(200) }), () => seq.AcceptedEventCount);
            var durable = Measure(() => new SeqSink(new SeqSinkOptions { ServerUrl = seq.ServerUrl, Period = TimeSpan.FromMilliseconds(200), BufferPath = folder }), () => seq.AcceptedEventCount);

            var report = $"""
                Logging {Events:N0} events (3 properties + 1 enriched), best of 3, per event: time on the calling thread / process CPU
                until the fake Seq (in this process, so its HTTP work is included) had them all:
                  null sink:          {none.CallerMicroseconds,6:0.00} µs / {none.CpuMicroseconds,6:0.00} µs
                  Seq sink, memory:   {memory.CallerMicroseconds,6:0.00} µs / {memory.CpuMicroseconds,6:0.00} µs
                  Seq sink, durable:  {durable.CallerMicroseconds,6:0.00} µs / {durable.CpuMicroseconds,6:0.00} µs
                """;
            await TestContext.Out.WriteLineAsync(report.AsMemory(), Ct);
            await TestContext.Progress.WriteLineAsync(report.AsMemory(), Ct);
            Assert.That(memory.CallerMicroseconds, Is.LessThan(50), "the memory-mode sink only queues on the caller's thread");
            Assert.That(durable.CallerMicroseconds, Is.LessThan(500), "the durable sink formats and writes a line on the caller's thread");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
