using System.Diagnostics;
using System.Text.Json;
using Ingest.ServiceDefaults.Logging;
using Ingest.Tests.Integration.Logging.Probes;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Serilog;
using Serilog.Core;

namespace Ingest.Tests.Integration.Logging;

/// <summary>
/// MassTransit 8 (in-memory transport, same send/receive pipeline as RabbitMQ) carries the trace id from the
/// sender's activity to the consumer once <see cref="IngestTracing"/> listens, so CLEF @tr matches on both sides.
/// </summary>
[CancelAfter(60_000), NonParallelizable]
public class When_a_message_crosses_the_broker
{
    internal static readonly ClefSink Sink = new();
    internal static readonly Logger Log = new LoggerConfiguration().WriteTo.Sink(Sink).CreateLogger();
    static CancellationToken Ct => TestContext.CurrentContext.CancellationToken;
    ServiceProvider _services = null!;
    IBusControl _bus = null!;

    [OneTimeSetUp]
    public async Task StartBus()
    {
        IngestTracing.Start();
        _services = new ServiceCollection().AddMassTransit(x =>
        {
            x.AddConsumer<TraceProbeConsumer>();
            x.AddConsumer<TraceBatchProbeConsumer>(c => c.Options<BatchOptions>(o => o.SetMessageLimit(2).SetTimeLimit(TimeSpan.FromSeconds(5))));
            x.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
        }).BuildServiceProvider();
        _bus = _services.GetRequiredService<IBusControl>();
        await _bus.StartAsync(Ct);
    }

    [OneTimeTearDown]
    public async Task StopBus()
    {
        await _bus.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }

    static IEnumerable<JsonElement> EventsFor(string template, string test) =>
        Sink.Events.Where(e => e.GetProperty("@mt").GetString() == template && (!e.TryGetProperty("Test", out var t) || t.GetString() == test));

    [Test]
    public async Task The_consumer_logs_under_the_senders_trace_id()
    {
        var test = Guid.NewGuid().ToString();
        string traceId;
        using (var request = new Activity("POST /v1/track").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            traceId = request.TraceId.ToHexString();
            Log.Information("HTTP {RequestMethod} {RequestPath} for {Test}", "POST", "/v1/track", test);
            await _bus.Publish(new TraceProbe(test), Ct);
        }

        await Eventually.HoldsAsync(_ => Task.FromResult(EventsFor("Consumed probe for {Test}", test).Any()), TimeSpan.FromSeconds(20), () => "the consumer's log line");

        var requestLog = EventsFor("HTTP {RequestMethod} {RequestPath} for {Test}", test).Single();
        var consumerLog = EventsFor("Consumed probe for {Test}", test).Single();
        Assert.That(requestLog.GetProperty("@tr").GetString(), Is.EqualTo(traceId));
        Assert.That(consumerLog.GetProperty("@tr").GetString(), Is.EqualTo(traceId), "same trace in Seq on both sides of the broker");
        Assert.That(consumerLog.GetProperty("@sp").GetString(), Is.Not.EqualTo(requestLog.GetProperty("@sp").GetString()));
    }

    [Test]
    public async Task A_batch_transaction_continues_the_first_trace_and_lists_every_trace()
    {
        var test = Guid.NewGuid().ToString();
        var traceIds = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var request = new Activity("POST /v1/batch").SetIdFormat(ActivityIdFormat.W3C).Start();
            traceIds.Add(request.TraceId.ToHexString());
            await _bus.Publish(new TraceBatchProbe(test), Ct);
        }

        await Eventually.HoldsAsync(_ => Task.FromResult(Sink.Events.Any(e => e.GetProperty("@mt").GetString() == "Committed {EventCount} events {TraceIds}")), TimeSpan.FromSeconds(20),
            () => "the batch's commit log line");

        var committed = Sink.Events.Single(e => e.GetProperty("@mt").GetString() == "Committed {EventCount} events {TraceIds}");
        Assert.That(committed.GetProperty("EventCount").GetInt32(), Is.EqualTo(2));
        Assert.That(committed.GetProperty("TraceIds").EnumerateArray().Select(t => t.GetString()), Is.EquivalentTo(traceIds));
        Assert.That(committed.GetProperty("@tr").GetString(), Is.EqualTo(committed.GetProperty("TraceIds")[0].GetString()));
    }
}
