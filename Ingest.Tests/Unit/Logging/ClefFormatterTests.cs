using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ingest.ServiceDefaults.Logging;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Ingest.Tests.Unit.Logging;

sealed class CollectingSink : ILogEventSink
{
    public List<LogEvent> Events { get; } = [];
    public void Emit(LogEvent logEvent) => Events.Add(logEvent);
}

[NonParallelizable]
public class When_an_event_is_written_as_clef
{
    static LogEvent Capture(Action<Serilog.ILogger> log)
    {
        var sink = new CollectingSink();
        using (var logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(sink).CreateLogger()) log(logger);
        return sink.Events.Single();
    }

    static JsonElement Clef(LogEvent logEvent, bool renderMessage = false)
    {
        var line = new ClefFormatter(renderMessage).Format(logEvent);
        Assert.That(line.IndexOf('\n'), Is.EqualTo(line.Length - 1), "one line per event, ended by a newline");
        return JsonDocument.Parse(line).RootElement;
    }

    [Test]
    public void The_timestamp_is_utc_in_round_trip_form()
    {
        var at = new DateTimeOffset(2026, 11, 22, 6, 30, 15, 123, TimeSpan.FromHours(2)).AddTicks(4567);
        var logEvent = new LogEvent(at, LogEventLevel.Information, null, new Serilog.Parsing.MessageTemplateParser().Parse("Hi"), []);
        var t = Clef(logEvent).GetProperty("@t").GetString();
        Assert.That(t, Is.EqualTo("2026-11-22T04:30:15.1234567Z"));
        Assert.That(DateTime.Parse(t!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind), Is.EqualTo(at.UtcDateTime));
    }

    [Test]
    public void The_template_is_mt_and_properties_are_top_level_fields()
    {
        var clef = Clef(Capture(l => l.Information("Committed {EventCount} events for {Source}", 3, "web")));
        Assert.That(clef.GetProperty("@mt").GetString(), Is.EqualTo("Committed {EventCount} events for {Source}"));
        Assert.That(clef.GetProperty("EventCount").GetInt32(), Is.EqualTo(3));
        Assert.That(clef.GetProperty("Source").GetString(), Is.EqualTo("web"));
    }

    [Test]
    public void The_rendered_message_is_m_only_when_rendering()
    {
        var logEvent = Capture(l => l.Information("Committed {EventCount} events", 3));
        Assert.That(Clef(logEvent, renderMessage: true).GetProperty("@m").GetString(), Is.EqualTo("Committed 3 events"));
        Assert.That(Clef(logEvent, renderMessage: false).TryGetProperty("@m", out _), Is.False);
    }

    [Test]
    public void Formatted_tokens_are_rendered_in_r_when_not_rendering_the_message()
    {
        var clef = Clef(Capture(l => l.Information("Took {ElapsedMs:0.0} ms for {Count}", 12.345, 2)));
        Assert.That(clef.GetProperty("@r").EnumerateArray().Select(r => r.GetString()), Is.EqualTo(new[] { "12.3" }));
        Assert.That(Clef(Capture(l => l.Information("No format {Count}", 2))).TryGetProperty("@r", out _), Is.False);
    }

    [Test]
    public void Information_has_no_level_and_other_levels_are_named()
    {
        Assert.That(Clef(Capture(l => l.Information("i"))).TryGetProperty("@l", out _), Is.False);
        Assert.That(Clef(Capture(l => l.Warning("w"))).GetProperty("@l").GetString(), Is.EqualTo("Warning"));
        Assert.That(Clef(Capture(l => l.Debug("d"))).GetProperty("@l").GetString(), Is.EqualTo("Debug"));
        Assert.That(Clef(Capture(l => l.Fatal("f"))).GetProperty("@l").GetString(), Is.EqualTo("Fatal"));
    }

    [Test]
    public void The_exception_is_x_with_its_stack()
    {
        Exception thrown;
        try { throw new InvalidOperationException("the database refused"); }
        catch (InvalidOperationException ex) { thrown = ex; }
        var clef = Clef(Capture(l => l.Error(thrown, "Failed")));
        Assert.That(clef.GetProperty("@x").GetString(), Does.StartWith("System.InvalidOperationException: the database refused").And.Contains(nameof(The_exception_is_x_with_its_stack)));
        Assert.That(Clef(Capture(l => l.Error("no exception"))).TryGetProperty("@x", out _), Is.False);
    }

    [Test]
    public void The_event_type_is_the_compact_formatters_hash_of_the_template()
    {
        // Expected values computed outside .NET (a Python port of Serilog.Formatting.Compact's EventIdHash).
        Assert.That(Clef(Capture(l => l.Information("Hello, {User}", "nblumhardt"))).GetProperty("@i").GetString(), Is.EqualTo("0482b02f"));
        Assert.That(EventIdHash.Compute("Committed {EventCount} events in {ElapsedMs} ms").ToString("x8", CultureInfo.InvariantCulture), Is.EqualTo("d126fedb"));
        Assert.That(Clef(Capture(l => l.Information("Hello, {User}", "someone else"))).GetProperty("@i").GetString(), Is.EqualTo("0482b02f"), "same template, same type");
    }

    [Test]
    public void Properties_named_with_an_at_sign_are_escaped_by_doubling_it()
    {
        var logEvent = Capture(l => l.ForContext("@mt", "not the template").ForContext("@x", 1).Information("Real {Value}", 5));
        var clef = Clef(logEvent);
        Assert.That(clef.GetProperty("@mt").GetString(), Is.EqualTo("Real {Value}"));
        Assert.That(clef.GetProperty("@@mt").GetString(), Is.EqualTo("not the template"));
        Assert.That(clef.GetProperty("@@x").GetInt32(), Is.EqualTo(1));
        Assert.That(clef.TryGetProperty("@x", out _), Is.False);
    }

    [Test]
    public void Structured_values_stay_structured()
    {
        var clef = Clef(Capture(l => l.Information("Batch {@Batch} {Ids}", new { EventCount = 2, Source = "web" }, new[] { 1, 2 })));
        Assert.That(clef.GetProperty("Batch").GetProperty("EventCount").GetInt32(), Is.EqualTo(2));
        Assert.That(clef.GetProperty("Ids").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void Trace_and_span_ids_come_from_the_current_activity()
    {
        using var activity = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var clef = Clef(Capture(l => l.Information("In a request")));
        Assert.That(clef.GetProperty("@tr").GetString(), Is.EqualTo(activity.TraceId.ToHexString()));
        Assert.That(clef.GetProperty("@sp").GetString(), Is.EqualTo(activity.SpanId.ToHexString()));
    }

    [Test]
    public void Without_an_activity_there_are_no_trace_fields()
    {
        Assert.That(Activity.Current, Is.Null);
        var clef = Clef(Capture(l => l.Information("Outside a request")));
        Assert.That(clef.TryGetProperty("@tr", out _) || clef.TryGetProperty("@sp", out _), Is.False);
    }

    [Test]
    public void Trace_ids_survive_the_microsoft_logging_bridge()
    {
        // The hosts log through Microsoft.Extensions.Logging (ILogger<T>) into Serilog: the ids must cross over.
        var sink = new CollectingSink();
        using (var serilog = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger())
        using (var factory = LoggerFactory.Create(b => b.AddSerilog(serilog)))
        using (var activity = new Activity("consume").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            factory.CreateLogger("Worker").LogInformation("Committed {EventCount} events", 4);
            var clef = Clef(sink.Events.Single());
            Assert.That(clef.GetProperty("@tr").GetString(), Is.EqualTo(activity.TraceId.ToHexString()));
            Assert.That(clef.GetProperty("@sp").GetString(), Is.EqualTo(activity.SpanId.ToHexString()));
            Assert.That(clef.GetProperty("EventCount").GetInt32(), Is.EqualTo(4));
        }
    }

    [Test]
    public void Strings_with_quotes_newlines_and_unicode_remain_valid_json_on_one_line()
    {
        var clef = Clef(Capture(l => l.Information("Value {Text}", "a \"quoted\"\nline\twith ✓ and \u0001")), renderMessage: true);
        Assert.That(clef.GetProperty("Text").GetString(), Is.EqualTo("a \"quoted\"\nline\twith ✓ and \u0001"));
    }
}
