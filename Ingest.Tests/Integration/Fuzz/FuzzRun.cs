using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// Posts generated requests to the API and checks each answer as it comes: a status the contract allows (never 5xx),
/// problem details that name the reason, and the messageIds it accepted, kept for the storage check at the end.
/// </summary>
public sealed class FuzzRun(HttpClient http, string sourceId, string writeKey, string readKey)
{
    readonly ConcurrentDictionary<(string Class, int Status), int> _answers = new();
    readonly ConcurrentDictionary<(Transport Transport, int Status), int> _transports = new();
    readonly ConcurrentQueue<(FuzzCase Case, string Problem)> _violations = new();

    /// <summary>The messageIds of every event an answer said was accepted.</summary>
    public ConcurrentDictionary<string, bool> Accepted { get; } = new();

    public IReadOnlyCollection<(FuzzCase Case, string Problem)> Violations => _violations;

    public int Posted => _answers.Values.Sum();

    public async Task PostAsync(FuzzCase request)
    {
        int status;
        string body;
        string? mediaType;
        try
        {
            using var message = request.ToRequest(writeKey, readKey);
            using var response = await http.SendAsync(message);
            status = (int)response.StatusCode;
            mediaType = response.Content.Headers.ContentType?.MediaType;
            body = await response.Content.ReadAsStringAsync();
        }
        catch (TaskCanceledException)
        {
            Tally(request, 0);
            _violations.Enqueue((request, $"no answer within {http.Timeout.TotalSeconds:0} s"));
            return;
        }
        catch (HttpRequestException e)
        {
            Tally(request, -1);
            // The inner exceptions say which side closed and when (a reset while the body was sent, a refused connection).
            var causes = string.Concat(Causes(e).Select(c => $" <- {c.GetType().Name}: {c.Message}"));
            _violations.Enqueue((request, $"the connection failed: {e.Message}{causes}"));
            return;
        }
        Tally(request, status);
        if (Check(request, status, mediaType, body) is { } problem) _violations.Enqueue((request, $"{status} {problem}: {Cut(body)}"));
    }

    void Tally(FuzzCase request, int status)
    {
        _answers.AddOrUpdate((request.Class, status), 1, (_, n) => n + 1);
        _transports.AddOrUpdate((request.Transport, status), 1, (_, n) => n + 1);
    }

    /// <returns>What is wrong with the answer, or null.</returns>
    string? Check(FuzzCase request, int status, string? mediaType, string body)
    {
        var allowed = request.AllowedStatuses();
        if (!allowed.Contains(status)) return $"is not what the contract allows ({string.Join(" or ", allowed)})";
        JsonElement answer;
        try
        {
            answer = JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException)
        {
            return "has a body that is not JSON";
        }
        if (status == 200)
        {
            if (!answer.TryGetProperty("success", out var success) || success.ValueKind != JsonValueKind.True) return "lacks {\"success\":true}";
        }
        else
        {
            if (mediaType != "application/problem+json") return $"is {mediaType}, not problem details";
            if (!answer.TryGetProperty("status", out var s) || s.GetInt32() != status) return "is problem details without its status";
            if (!answer.TryGetProperty("title", out var title) || string.IsNullOrWhiteSpace(title.GetString())) return "is problem details without a title";
            var named = answer.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object
                && errors.EnumerateObject().Any() && errors.EnumerateObject().All(e => e.Value.EnumerateArray().All(r => r.GetString() is { Length: > 0 }));
            var detailed = answer.TryGetProperty("detail", out var detail) && !string.IsNullOrWhiteSpace(detail.GetString());
            // A 400 for a body that is one JSON object names the fields it refuses.
            if (status == 400 && request.Transport != Transport.CorruptGzip && FuzzCase.Parse(request.Json.Bytes) is { ValueKind: JsonValueKind.Object } && !named)
                return "refuses a JSON object without naming a field in errors";
            if (!named && !detailed) return "is problem details without a reason";
        }
        if (status is 200 or 400)
        {
            var ids = AcceptedEvents.Of(request, sourceId, status, answer);
            if (ids is null) return "counts accepted messages other than those its errors leave out";
            foreach (var id in ids) Accepted[id] = true;
        }
        return null;
    }

    static string Cut(string text) => text.Length <= 600 ? text : text[..600] + "…";

    /// <summary>The answers seen, as a Markdown table: input class, status, count.</summary>
    public string Table()
    {
        var text = new StringBuilder("| input class | status | count |\n|---|---|---:|\n");
        foreach (var ((@class, status), count) in _answers.OrderBy(a => a.Key.Class).ThenBy(a => a.Key.Status))
            text.Append($"| {@class} | {Status(status)} | {count} |\n");
        text.Append("\n| transport | status | count |\n|---|---|---:|\n");
        foreach (var ((transport, status), count) in _transports.OrderBy(a => a.Key.Transport).ThenBy(a => a.Key.Status))
            text.Append($"| {transport} | {Status(status)} | {count} |\n");
        return text.ToString();
    }

    static IEnumerable<Exception> Causes(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException) yield return inner;
    }

    static string Status(int status) => status switch
    {
        0 => "no answer",
        -1 => "connection failed",
        _ => $"{status} {(HttpStatusCode)status}",
    };
}
