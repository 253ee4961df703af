using System.Runtime.InteropServices;
using System.Text.Json;
using Ingest.Api.Keys;
using Ingest.Api.Privacy;
using Ingest.Api.Publishing;
using Ingest.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ingest.Api.Tracking;

/// <summary>
/// The write side: Segment's HTTP Tracking API (so Segment's libraries work unchanged), its browser library's short
/// paths, and the seeds' older /analytics format. A 200 means every accepted event is on the broker's disk.
/// </summary>
public static class TrackingApi
{
    public sealed record Success(bool success = true);

    static readonly Dictionary<string, string> ShortPaths = new() { ["t"] = "track", ["i"] = "identify", ["p"] = "page", ["s"] = "screen", ["g"] = "group", ["a"] = "alias" };

    public static IEndpointRouteBuilder MapTracking(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapWriteGroup("/v1", "Tracking");
        foreach (var type in SegmentMessage.Types)
            v1.MapPost($"/{type}", (HttpContext http, Ingestion ingestion) => ingestion.SingleAsync(http, type)).WithName(type);
        foreach (var (path, type) in ShortPaths)
            v1.MapPost($"/{path}", (HttpContext http, Ingestion ingestion) => ingestion.SingleAsync(http, type)).ExcludeFromDescription();
        v1.MapPost("/batch", (HttpContext http, Ingestion ingestion) => ingestion.BatchAsync(http)).WithName("batch");
        v1.MapPost("/b", (HttpContext http, Ingestion ingestion) => ingestion.BatchAsync(http)).ExcludeFromDescription();

        // Routing ignores a trailing slash, so this serves /analytics/ too.
        app.MapWriteGroup("/analytics", "Legacy").MapPost("", (HttpContext http, Ingestion ingestion) => ingestion.LegacyAsync(http)).WithName("analytics");
        return app;
    }

    /// <summary>
    /// A group behind the write policy, with every answer a write can give besides 200 and the 400 of its messages:
    /// a refused key (401, 403, and 503 until keys are loaded), a body too large (413) or not JSON (415), a source
    /// over its rate (429), the broker down (503).
    /// </summary>
    static RouteGroupBuilder MapWriteGroup(this IEndpointRouteBuilder app, string prefix, string tag) =>
        (RouteGroupBuilder)app.MapGroup(prefix).WithTags(tag)
            .RequireAuthorization(KeyAuthentication.Write)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}

/// <summary>
/// The steps every write request goes through, in order: content type, size, JSON, key, origin, messages, suppressions, rate, broker.
/// A key in the headers or the query was checked before, by authentication; only the body's is checked here.
/// </summary>
public sealed class Ingestion(KeyStore keys, IOptions<KeyOptions> keyOptions, SuppressionList suppressions, SourceRateLimiter rateLimiter, EventPublisher publisher, TimeProvider time, IOptions<PublishOptions> publishOptions)
{
    public Task<Results<Ok<TrackingApi.Success>, ValidationProblem, ProblemHttpResult>> SingleAsync(HttpContext http, string type) =>
        HandleAsync(http, TrackingRequest.MaxMessageBytes, (root, envelope) =>
        {
            var added = envelope.Client?.AddedBytes(root, null) ?? 0;
            if (added > 0 && JsonMarshal.GetRawUtf8Value(root).Length + added > TrackingRequest.MaxMessageBytes)
                return new([], [], new(StatusCodes.Status413PayloadTooLarge, "Payload too large",
                    $"The message is larger than {TrackingRequest.MaxMessageBytes / 1024} KB with the context.ip and context.userAgent the API adds to it."));
            var (evt, errors) = SegmentMessage.Read(root, type, envelope);
            return new(evt is null ? [] : [evt], errors.Count == 0 ? [] : new() { [""] = errors });
        });

    public Task<Results<Ok<TrackingApi.Success>, ValidationProblem, ProblemHttpResult>> BatchAsync(HttpContext http) =>
        HandleAsync(http, TrackingRequest.MaxBatchBytes, ReadBatch);

    public Task<Results<Ok<TrackingApi.Success>, ValidationProblem, ProblemHttpResult>> LegacyAsync(HttpContext http) =>
        HandleAsync(http, TrackingRequest.MaxBatchBytes, LegacyAnalytics.Read);

    /// <summary>Reads the messages of a request: the events accepted, and the errors by message prefix ("" or "batch[3]").</summary>
    public delegate MessagesRead MessageReader(JsonElement root, SegmentMessage.Envelope envelope);

    /// <summary>The events accepted, the errors by message prefix ("" or "batch[3]"), or a refusal of the whole request.</summary>
    public sealed record MessagesRead(List<AnalyticsEvent> Events, Dictionary<string, List<FieldError>> Errors, Refusal? Refusal = null);

    async Task<Results<Ok<TrackingApi.Success>, ValidationProblem, ProblemHttpResult>> HandleAsync(HttpContext http, int limit, MessageReader read)
    {
        var receivedAt = time.GetUtcNow();
        var request = http.Request;
        if (TrackingRequest.CheckContentType(request) is { } badType) return Problem(badType);
        var (body, tooLarge) = await TrackingRequest.ReadBodyAsync(request, limit, http.RequestAborted);
        if (tooLarge is not null) return Problem(tooLarge);
        var (root, invalid) = TrackingRequest.Parse(body!);
        if (invalid is not null) return Problem(invalid);
        if (StorableJson.FindNameProblem(root) is { } badName)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [badName.Field] = [badName.Reason] }, detail: "No message was accepted.");
        if (http.User.Identity?.IsAuthenticated != true)
        {
            // No key in the headers or the query (the write policy let the request through): the body's is the last chance.
            var presented = TrackingRequest.KeyFromBody(root);
            var (bodyKey, failure) = keys.Authenticate(presented);
            if (bodyKey is { Scope: not KeyAuthentication.Write }) failure = KeyFailure.WrongScope;
            if (failure is { } refused) return KeyAuthentication.Refusal(http.Response, refused, KeyAuthentication.Write, keyOptions.Value.RefreshInterval);
            http.User = KeyAuthentication.Principal(bodyKey!, presented!);
        }
        var sourceId = http.User.SourceId();

        if (request.Headers.Origin.ToString() is { Length: > 0 } origin)
        {
            if (!http.User.AllowsOrigin(origin))
                return Problem(new(StatusCodes.Status403Forbidden, "Origin not allowed", $"The origin {origin} is not allowed for source {sourceId}."));
            http.Response.Headers.AccessControlAllowOrigin = origin;
            http.Response.Headers.Vary = "Origin";
        }

        // The client's address and user agent, under the source's IP policy, once for all the request's messages.
        var client = ClientContext.Of(http, http.User.IpPolicy());
        var envelope = new SegmentMessage.Envelope(sourceId, receivedAt, Ids: new MessageIds(body), Client: client);
        var (events, errors, refusal) = read(root, envelope);
        if (refusal is not null) return Problem(refusal);
        // A suppressed subject's events are answered as accepted (Segment's libraries must not retry them) and never published.
        events.RemoveAll(suppressions.Suppresses);
        if (events.Count > 0)
        {
            EncodedEvents encoded;
            try
            {
                encoded = EncodedEvents.Encode(events);
            }
            catch (NotSupportedException e)
            {
                return Problem(new(StatusCodes.Status400BadRequest, "Unstorable message", e.Message));
            }
            if (rateLimiter.TryAcquire(sourceId, events.Count) is { } wait)
            {
                http.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString("0");
                return Problem(new(StatusCodes.Status429TooManyRequests, "Rate limit exceeded", $"Source {sourceId} is sending more events a second than it may; retry after {Math.Ceiling(wait.TotalSeconds):0} s."));
            }
            try
            {
                await publisher.PublishAsync(encoded, http.RequestAborted);
            }
            catch (BrokerUnavailableException e)
            {
                http.Response.Headers.RetryAfter = publishOptions.Value.RetryAfterSeconds.ToString();
                return Problem(new(StatusCodes.Status503ServiceUnavailable, "Broker unavailable", $"{e.Message} Nothing was accepted; retry later."));
            }
        }
        if (errors.Count == 0) return TypedResults.Ok(new TrackingApi.Success());

        var problems = errors.SelectMany(m => m.Value.Select(e => (Field: Join(m.Key, e.Field), e.Reason)))
            .GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray());
        return TypedResults.ValidationProblem(problems,
            detail: events.Count == 0 ? "No message was accepted." : $"{events.Count} message(s) accepted; {errors.Count} rejected, listed by field.",
            extensions: new Dictionary<string, object?> { ["accepted"] = events.Count, ["rejected"] = errors.Count });
    }

    static MessagesRead ReadBatch(JsonElement root, SegmentMessage.Envelope envelope)
    {
        var events = new List<AnalyticsEvent>();
        var errors = new Dictionary<string, List<FieldError>>();
        if (!root.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
        {
            errors["batch"] = [new("", "is required: an array of messages")];
            return new(events, errors);
        }
        if (batch.GetArrayLength() > TrackingRequest.MaxBatchMessages)
            return new(events, errors, new(StatusCodes.Status413PayloadTooLarge, "Too many messages",
                $"The batch holds {batch.GetArrayLength()} messages, more than {TrackingRequest.MaxBatchMessages}."));
        var batchContext = BatchObject(root, "context", errors);
        var batchIntegrations = BatchObject(root, "integrations", errors);
        var batchSentAt = BatchTime(root, "sentAt", errors);
        if (errors.Count > 0) return new(events, new() { [""] = errors.Values.SelectMany(e => e).ToList() });
        envelope = envelope with
        {
            BatchSentAt = batchSentAt,
            BatchContext = envelope.Client is { } client ? client.Prepare(batchContext) : batchContext,
            BatchIntegrations = batchIntegrations,
        };
        // A message is measured as it will be stored: with the batch's context and integrations merged into it. So a
        // small batch cannot ask for a large shared context to be copied into each of its many messages.
        var shared = (batchContext is { } c ? JsonMarshal.GetRawUtf8Value(c).Length : 0) + (batchIntegrations is { } i ? JsonMarshal.GetRawUtf8Value(i).Length : 0);
        var index = 0;
        long stored = 0;
        foreach (var message in batch.EnumerateArray())
        {
            var position = index++;
            var prefix = $"batch[{position}]";
            var added = envelope.Client?.AddedBytes(message, batchContext) ?? 0;
            var size = JsonMarshal.GetRawUtf8Value(message).Length + shared + added;
            if (size > TrackingRequest.MaxMessageBytes)
            {
                errors[prefix] = [new("", shared == 0 && added == 0 ? $"is larger than {TrackingRequest.MaxMessageBytes / 1024} KB"
                    : $"is larger than {TrackingRequest.MaxMessageBytes / 1024} KB with the batch's context and integrations and the API's context.ip and context.userAgent merged into it")];
                continue;
            }
            var (evt, messageErrors) = SegmentMessage.Read(message, null, envelope, position);
            if (evt is not null)
            {
                events.Add(evt);
                stored += size;
            }
            else errors[prefix] = messageErrors;
        }
        if (stored > TrackingRequest.MaxBatchBytes)
            return new([], [], new(StatusCodes.Status413PayloadTooLarge, "Batch too large as stored",
                $"With the batch's context and integrations ({shared} bytes) merged into each of its {events.Count} messages, the batch would store {stored / 1024} KB, more than {TrackingRequest.MaxBatchBytes / 1024} KB. Send the context with each message, or fewer messages a batch."));
        return new(events, errors);
    }

    /// <summary>The batch's sentAt: read and refused as a message's own, once it is known to be text.</summary>
    static DateTimeOffset? BatchTime(JsonElement root, string field, Dictionary<string, List<FieldError>> errors)
    {
        var problems = new List<FieldError>();
        if (root.TryGetProperty(field, out var value) && StorableJson.FindProblem(value, field) is { } problem) problems.Add(problem);
        var time = problems.Count == 0 ? SegmentMessage.Time(root, field, problems) : null;
        if (problems.Count > 0) errors[field] = problems;
        return time;
    }

    /// <summary>The batch's own context or integrations: an object whose every value can be stored, or null.</summary>
    static JsonElement? BatchObject(JsonElement root, string field, Dictionary<string, List<FieldError>> errors)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object) errors[field] = [new(field, "must be a JSON object")];
        else if (StorableJson.FindProblem(value, field) is { } problem) errors[field] = [problem];
        else return value;
        return null;
    }

    static string Join(string prefix, string field) => prefix.Length == 0 ? field : field.Length == 0 ? prefix : $"{prefix}.{field}";

    static ProblemHttpResult Problem(Refusal refusal) => TypedResults.Problem(refusal.Detail, statusCode: refusal.Status, title: refusal.Title);
}
