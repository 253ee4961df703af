using System.Diagnostics;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>
/// Makes the trace id travel. ASP.NET Core starts an Activity per request; MassTransit 8 creates its send and
/// consume activities from its "MassTransit" ActivitySource only when something listens to it (no OpenTelemetry
/// here), and then carries the sender's trace context in the MT-Activity-Id header and restores it as the parent of
/// the consumer's activity. This listener asks for propagation data only (ids, no tags): cheap, and enough for the
/// CLEF @tr/@sp of the API's request log and of the worker's log events to share the trace id.
/// <para>
/// One broker message carries the events of several requests (group commit) and one transaction stores several
/// messages (batch consumer), so one trace id cannot cover them all: <see cref="StartFor"/> continues the first
/// trace and links the others, and <see cref="TraceIds"/> gives all of them for a TraceIds log property.
/// </para>
/// </summary>
public static class IngestTracing
{
    /// <summary>The header MassTransit 8 writes the sending activity's W3C id (traceparent form) to.</summary>
    public const string ActivityIdHeader = "MT-Activity-Id";

    static readonly ActivitySource Source = new("Ingest");

    static readonly Lazy<ActivityListener> Listener = new(() =>
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "MassTransit" or "Microsoft.AspNetCore" or "Ingest",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    });

    public static void Start() => _ = Listener.Value;

    /// <summary>
    /// Starts an activity continuing the first of <paramref name="traceParents"/> (W3C ids such as Activity.Id or the
    /// MT-Activity-Id header of each message in a batch) and linking the rest; with none, a child of Activity.Current.
    /// Log inside it and the events carry that trace id.
    /// </summary>
    public static Activity? StartFor(string name, ActivityKind kind, IEnumerable<string?> traceParents)
    {
        var contexts = Parse(traceParents);
        return Source.StartActivity(name, kind, contexts.Count > 0 ? contexts[0] : default, links: contexts.Skip(1).Select(c => new ActivityLink(c)));
    }

    /// <summary>The distinct trace ids among <paramref name="traceParents"/>, in order.</summary>
    public static string[] TraceIds(IEnumerable<string?> traceParents) =>
        [.. Parse(traceParents).Select(c => c.TraceId.ToHexString()).Distinct()];

    static List<ActivityContext> Parse(IEnumerable<string?> traceParents) =>
        [.. traceParents.Select(p => p is not null && ActivityContext.TryParse(p, null, out var context) ? context : default).Where(c => c != default)];
}
