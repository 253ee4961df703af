using System.Globalization;
using System.Text.Json;
using Ingest.Api.Keys;
using Ingest.Api.ReadSide;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Ingest.Broker.DeadLetters;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Api.Operations;

/// <summary>
/// The dead-letter queue (<c>&lt;queue&gt;_error</c>) as a source sees it, read without consuming anything.
/// <para>
/// A dead letter belongs to no source: it is a broker message the worker could not read, and one broker message may
/// carry the events of several sources (the API's group commit). So a read key sees a dead letter only when its body is
/// JSON whose <c>message.events[]</c> name the key's source, and then only that source's events (messageId, type,
/// event); the fault's reason only when every event in it is the key's source's. A body that is not JSON, or names no
/// source, is shown to no key: it is for ops, on the worker's command line (<c>Ingest.Worker dead-letters list</c>),
/// which also replays and drops. Neither the raw body nor other sources' events, nor their number, are ever shown.
/// </para>
/// </summary>
public static class DeadLettersApi
{
    const int DefaultScan = 100;
    const int MaxScan = 1000;

    public static IEndpointRouteBuilder MapDeadLetters(this IEndpointRouteBuilder app)
    {
        app.MapReadGroup("Dead letters")
            .MapGet("/dead-letters", ListAsync).WithName("listDeadLetters");
        return app;
    }

    public sealed record DeadLetterEvent(string MessageId, string? Type, string? Event);

    /// <summary>One dead letter as the key's source may see it; Reason and ExceptionType null unless it holds only this source's events.</summary>
    public sealed record SourceDeadLetter(string BrokerMessageId, DateTimeOffset? DeadLetteredAt, string? ExceptionType, string? Reason, IReadOnlyList<DeadLetterEvent> Events);

    /// <summary>The source's dead letters among the first <c>Scanned</c> messages of the queue, in queue order.</summary>
    public sealed record DeadLetterPage(IReadOnlyList<SourceDeadLetter> DeadLetters, int Scanned);

    static async Task<Results<Ok<DeadLetterPage>, ValidationProblem, ProblemHttpResult>> ListAsync(
        HttpContext http, IOptions<BrokerOptions> broker, IOptions<QueryOptions> options, ILogger<DeadLetterQueue> log, CancellationToken ct)
    {
        var scan = DefaultScan;
        if (http.Request.Query["scan"] is { Count: > 0 } s
            && (!int.TryParse(s.ToString(), CultureInfo.InvariantCulture, out scan) || scan < 1 || scan > MaxScan))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["scan"] = [$"An integer from 1 to {MaxScan}."] });
        var sourceId = http.User.SourceId();
        IReadOnlyList<DeadLetter> letters;
        try
        {
            await using var queue = await DeadLetterQueue.ConnectAsync(broker.Value, ct);
            letters = await queue.PeekAsync(scan, ct);
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException)
        {
            log.LogWarning("Dead letters not read, broker unreachable: {Error}", e.Message);
            RetryAfter.Set(http.Response, options.Value.RetryAfterSeconds);
            return TypedResults.Problem("The broker cannot be reached; retry later.", statusCode: 503, title: "Broker unavailable");
        }
        var visible = new List<SourceDeadLetter>();
        foreach (var letter in letters)
        {
            var (own, onlyOwn) = EventsOf(letter.Body, sourceId);
            if (own.Count == 0) continue;
            visible.Add(new SourceDeadLetter(letter.MessageId, letter.DeadLetteredAt,
                onlyOwn ? letter.ExceptionType : null, onlyOwn ? letter.Reason : null, own));
        }
        return TypedResults.Ok(new DeadLetterPage(visible, letters.Count));
    }

    /// <summary>The events of a MassTransit JSON envelope that name <paramref name="sourceId"/>, and whether no other event is there.</summary>
    static (IReadOnlyList<DeadLetterEvent> Own, bool OnlyOwn) EventsOf(byte[] body, string sourceId)
    {
        var own = new List<DeadLetterEvent>();
        var onlyOwn = true;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object
                || !json.RootElement.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object
                || !message.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
                return ([], false);
            foreach (var e in events.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.Object && String(e, "sourceId") == sourceId)
                    own.Add(new DeadLetterEvent(String(e, "messageId") ?? "", String(e, "type"), String(e, "event")));
                else
                    onlyOwn = false;
            }
        }
        catch (JsonException)
        {
            return ([], false);
        }
        return (own, onlyOwn);
    }

    static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
