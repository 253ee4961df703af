using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Json;
using Serilog.Parsing;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>
/// Writes events as CLEF (https://clef-json.org), one JSON object a line: what Seq's raw ingestion endpoint reads
/// and what the console and the files write in production. Serilog.Formatting.Compact is not obtainable here
/// (ENVIRONMENT.md), so this is its equivalent, plus the trace and span ids Seq uses to correlate.
/// </summary>
/// <param name="renderMessage">
/// Also write <c>@m</c>, the rendered message, for readers without message-template support (a terminal, grep).
/// Seq renders from <c>@mt</c> itself, so its sink leaves this off and sends <c>@r</c> renderings instead.
/// </param>
public sealed class ClefFormatter(bool renderMessage) : ITextFormatter
{
    readonly JsonValueFormatter _values = new(typeTagName: "$type");

    public void Format(LogEvent logEvent, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);

        output.Write("{\"@t\":\"");
        output.Write(logEvent.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        output.Write("\",\"@mt\":");
        JsonValueFormatter.WriteQuotedJsonString(logEvent.MessageTemplate.Text, output);

        if (renderMessage)
        {
            output.Write(",\"@m\":");
            JsonValueFormatter.WriteQuotedJsonString(logEvent.MessageTemplate.Render(logEvent.Properties, CultureInfo.InvariantCulture), output);
        }
        else
        {
            WriteRenderings(logEvent, output);
        }

        output.Write(",\"@i\":\"");
        output.Write(EventIdHash.Compute(logEvent.MessageTemplate.Text).ToString("x8", CultureInfo.InvariantCulture));
        output.Write('"');

        if (logEvent.Level != LogEventLevel.Information)
        {
            output.Write(",\"@l\":\"");
            output.Write(logEvent.Level.ToString());
            output.Write('"');
        }

        if (logEvent.Exception is not null)
        {
            output.Write(",\"@x\":");
            JsonValueFormatter.WriteQuotedJsonString(logEvent.Exception.ToString(), output);
        }

        if (logEvent.TraceId is { } traceId && traceId != default)
        {
            output.Write(",\"@tr\":\"");
            output.Write(traceId.ToHexString());
            output.Write('"');
        }

        if (logEvent.SpanId is { } spanId && spanId != default)
        {
            output.Write(",\"@sp\":\"");
            output.Write(spanId.ToHexString());
            output.Write('"');
        }

        foreach (var (name, value) in logEvent.Properties)
        {
            output.Write(',');
            // A user property named "@x" would read as a reified one: CLEF escapes it by doubling the sigil.
            JsonValueFormatter.WriteQuotedJsonString(name.StartsWith('@') ? "@" + name : name, output);
            output.Write(':');
            _values.Format(value, output);
        }

        output.Write('}');
        output.Write('\n');
    }

    public string Format(LogEvent logEvent)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        Format(logEvent, writer);
        return writer.ToString();
    }

    /// <summary><c>@r</c>: the tokens with a format string (<c>{ElapsedMs:0.0}</c>), rendered, in template order.</summary>
    static void WriteRenderings(LogEvent logEvent, TextWriter output)
    {
        var first = true;
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is not PropertyToken { Format: not null } property) continue;
            output.Write(first ? ",\"@r\":[" : ",");
            first = false;
            using var rendered = new StringWriter(CultureInfo.InvariantCulture);
            property.Render(logEvent.Properties, rendered, CultureInfo.InvariantCulture);
            JsonValueFormatter.WriteQuotedJsonString(rendered.ToString(), output);
        }
        if (!first) output.Write(']');
    }
}

/// <summary>
/// The <c>@i</c> event type: the same 32-bit hash of the message template that Serilog.Formatting.Compact's
/// <c>EventIdHash</c> computes (Jenkins one-at-a-time over the template's UTF-16 code units), written as 8 lower-case
/// hex digits, so events from this formatter and from the official one group under the same type in Seq.
/// </summary>
public static class EventIdHash
{
    public static uint Compute(string messageTemplate)
    {
        ArgumentNullException.ThrowIfNull(messageTemplate);
        unchecked
        {
            uint hash = 0;
            foreach (var c in messageTemplate)
            {
                hash += c;
                hash += hash << 10;
                hash ^= hash >> 6;
            }
            hash += hash << 3;
            hash ^= hash >> 11;
            hash += hash << 15;
            return hash;
        }
    }
}
