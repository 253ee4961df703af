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
/// The write path: every write request goes through these steps, in this order, and the first that refuses answers.
/// <list type="number">
/// <item><see cref="ReadJsonAsync"/>: content type, body within its limit, JSON within its depth.</item>
/// <item><see cref="CheckFieldNames"/>: no property name that PostgreSQL's jsonb cannot store.</item>
/// <item><see cref="AuthenticateBodyKey"/>: a key in the headers or the query was checked by authentication; only the body's is checked here.</item>
/// <item><see cref="AllowOrigin"/>: a browser's origin must be one the key's source allows.</item>
/// <item>read the messages (the endpoint's <see cref="MessageReader"/>) with the client's context under the source's IP policy.</item>
/// <item><see cref="DropSuppressed"/>: a suppressed subject's events are answered as accepted and never published.</item>
/// <item><see cref="Encode"/>, <see cref="TakeRate"/>, <see cref="PublishAsync"/>: once on the broker's disk, the events are accepted.</item>
/// <item><see cref="Answer"/>: 200, or the rejected messages listed by field.</item>
/// </list>
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
        HandleAsync(http, TrackingRequest.MaxBatchBytes, BatchMessages.Read);

    public Task<Results<Ok<TrackingApi.Success>, ValidationProblem, ProblemHttpResult>> LegacyAsync(HttpContext http) =>
        HandleAsync(http, TrackingRequest.MaxBatchBytes, LegacyAnalytics.Read);

    async Task<Results<Ok<TrackingApi.Success>, ValidationProblem, ProblemHttpResult>> HandleAsync(HttpContext http, int limit, MessageReader read)
    {
        var receivedAt = time.GetUtcNow();
        var (body, root, unreadable) = await ReadJsonAsync(http.Request, limit, http.RequestAborted);
        if (unreadable is not null) return Problem(unreadable);
        if (CheckFieldNames(root) is { } badName) return badName;
        if (AuthenticateBodyKey(http, root) is { } refusedKey) return refusedKey;
        var sourceId = http.User.SourceId();
        if (AllowOrigin(http, sourceId) is { } badOrigin) return Problem(badOrigin);

        // The client's address and user agent, under the source's IP policy, once for all the request's messages.
        var envelope = new SegmentMessage.Envelope(sourceId, receivedAt, Ids: new MessageIds(body), Client: ClientContext.Of(http, http.User.IpPolicy()));
        var (events, errors, refusal) = read(root, envelope);
        if (refusal is not null) return Problem(refusal);
        DropSuppressed(events);
        if (events.Count > 0)
        {
            var (encoded, unstorable) = Encode(events);
            if (unstorable is not null) return Problem(unstorable);
            if (TakeRate(http.Response, sourceId, events.Count) is { } overRate) return Problem(overRate);
            if (await PublishAsync(http, encoded!) is { } brokerDown) return Problem(brokerDown);
        }
        return Answer(events.Count, errors);
    }

    /// <summary>Step 1: the body as JSON, refused by type (415), size (413) or syntax (400).</summary>
    static async Task<(byte[]? Body, JsonElement Root, Refusal? Refusal)> ReadJsonAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (TrackingRequest.CheckContentType(request) is { } badType) return (null, default, badType);
        var (body, tooLarge) = await TrackingRequest.ReadBodyAsync(request, limit, ct);
        if (tooLarge is not null) return (null, default, tooLarge);
        var (root, invalid) = TrackingRequest.Parse(body!);
        return (body, root, invalid);
    }

    /// <summary>Step 2: a property name jsonb cannot store refuses the whole request, naming it.</summary>
    static ValidationProblem? CheckFieldNames(JsonElement root) =>
        StorableJson.FindNameProblem(root) is { } badName
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { [badName.Field] = [badName.Reason] }, detail: "No message was accepted.")
            : null;

    /// <summary>Step 3: no key in the headers or the query (the write policy let the request through): the body's is the last chance.</summary>
    ProblemHttpResult? AuthenticateBodyKey(HttpContext http, JsonElement root)
    {
        if (http.User.Identity?.IsAuthenticated == true) return null;
        var presented = TrackingRequest.KeyFromBody(root);
        var (bodyKey, failure) = keys.Authenticate(presented);
        if (bodyKey is { Scope: not KeyAuthentication.Write }) failure = KeyFailure.WrongScope;
        if (failure is { } refused) return KeyAuthentication.Refusal(http.Response, refused, KeyAuthentication.Write, keyOptions.Value.RefreshInterval);
        http.User = KeyAuthentication.Principal(bodyKey!, presented!);
        return null;
    }

    /// <summary>Step 4: a browser's request comes from an origin the source allows, and its answer says so.</summary>
    static Refusal? AllowOrigin(HttpContext http, string sourceId)
    {
        if (http.Request.Headers.Origin.ToString() is not { Length: > 0 } origin) return null;
        if (!http.User.AllowsOrigin(origin))
            return new(StatusCodes.Status403Forbidden, "Origin not allowed", $"The origin {origin} is not allowed for source {sourceId}.");
        http.Response.Headers.AccessControlAllowOrigin = origin;
        http.Response.Headers.Vary = "Origin";
        return null;
    }

    /// <summary>Step 6: a suppressed subject's events are answered as accepted (Segment's libraries must not retry them) and never published.</summary>
    void DropSuppressed(List<AnalyticsEvent> events) => events.RemoveAll(suppressions.Suppresses);

    /// <summary>Step 7: the broker message's body, or 400 for an event that cannot be written as one.</summary>
    static (EncodedEvents? Encoded, Refusal? Refusal) Encode(List<AnalyticsEvent> events)
    {
        try
        {
            return (EncodedEvents.Encode(events), null);
        }
        catch (NotSupportedException e)
        {
            return (null, new(StatusCodes.Status400BadRequest, "Unstorable message", e.Message));
        }
    }

    /// <summary>Step 8: the source's rate, counted in events; 429 with Retry-After when over it.</summary>
    Refusal? TakeRate(HttpResponse response, string sourceId, int events)
    {
        if (rateLimiter.TryAcquire(sourceId, events) is not { } wait) return null;
        RetryAfter.Set(response, wait);
        return new(StatusCodes.Status429TooManyRequests, "Rate limit exceeded", $"Source {sourceId} is sending more events a second than it may; retry after {Math.Ceiling(wait.TotalSeconds):0} s.");
    }

    /// <summary>Step 9: on the broker's disk (its confirm), or 503 with Retry-After and nothing accepted.</summary>
    async Task<Refusal?> PublishAsync(HttpContext http, EncodedEvents encoded)
    {
        try
        {
            await publisher.PublishAsync(encoded, http.RequestAborted);
            return null;
        }
        catch (BrokerUnavailableException e)
        {
            RetryAfter.Set(http.Response, publishOptions.Value.RetryAfterSeconds);
            return new(StatusCodes.Status503ServiceUnavailable, "Broker unavailable", $"{e.Message} Nothing was accepted; retry later.");
        }
    }

    /// <summary>Step 10: 200 when every message was accepted; else 400 listing the rejected by field, with the counts.</summary>
    static Results<Ok<TrackingApi.Success>, ValidationProblem, ProblemHttpResult> Answer(int accepted, Dictionary<string, List<FieldError>> errors)
    {
        if (errors.Count == 0) return TypedResults.Ok(new TrackingApi.Success());
        var problems = errors.SelectMany(m => m.Value.Select(e => (Field: Join(m.Key, e.Field), e.Reason)))
            .GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray());
        return TypedResults.ValidationProblem(problems,
            detail: accepted == 0 ? "No message was accepted." : $"{accepted} message(s) accepted; {errors.Count} rejected, listed by field.",
            extensions: new Dictionary<string, object?> { ["accepted"] = accepted, ["rejected"] = errors.Count });
    }

    static string Join(string prefix, string field) => prefix.Length == 0 ? field : field.Length == 0 ? prefix : $"{prefix}.{field}";

    static ProblemHttpResult Problem(Refusal refusal) => TypedResults.Problem(refusal.Detail, statusCode: refusal.Status, title: refusal.Title);
}
