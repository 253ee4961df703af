using System.Text.Json;

namespace Ingest.Tests.Integration.Queries;

/// <summary>A Server-Sent Events client over the test server: the events it received, in order.</summary>
public sealed class SseClient : IAsyncDisposable
{
    /// <summary>An event: <paramref name="Id"/> is the stored row's id (from data), <paramref name="LastEventId"/> its SSE id.</summary>
    public sealed record Message(long Id, string LastEventId, string Type, JsonElement Data);

    readonly HttpResponseMessage _response;
    readonly StreamReader _reader;
    readonly CancellationTokenSource _closed = new();
    int _disposed;

    SseClient(HttpResponseMessage response, StreamReader reader) => (_response, _reader) = (response, reader);

    /// <summary>Opens the stream and waits for its first comment, so that the server is reading before the test stores anything.</summary>
    public static async Task<SseClient> OpenAsync(string path, string readKey, string? lastEventId = null, HttpClient? api = null)
    {
        var request = ReadSide.Get(path, readKey, "text/event-stream");
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await (api ?? ReadSide.Client).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.That((int)response.StatusCode, Is.EqualTo(200), await ErrorBody(response));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        var client = new SseClient(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await client._reader.ReadLineAsync(timeout.Token) is { } line && !line.StartsWith(": streaming", StringComparison.Ordinal)) { }
        return client;
    }

    static async Task<string> ErrorBody(HttpResponseMessage response) =>
        (int)response.StatusCode == 200 ? "" : await response.Content.ReadAsStringAsync();

    /// <summary>The next event (comments skipped); fails the test if none comes within <paramref name="within"/>.</summary>
    public async Task<Message> NextAsync(TimeSpan within)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
        timeout.CancelAfter(within);
        string? id = null;
        string? type = null;
        try
        {
            while (await _reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    var data = JsonDocument.Parse(line[6..]).RootElement.Clone();
                    return new(data.GetProperty("id").GetInt64(), id ?? throw new AssertionException("an event without id"), type ?? "message", data);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        throw new AssertionException($"No event on the stream within {within.TotalSeconds:0.#} s.");
    }

    /// <summary>Closes the stream, as a client going away; a second call does nothing.</summary>
    /// <summary>Reads until a comment line starting with <paramref name="text"/>; events before it are dropped.</summary>
    public async Task CommentAsync(string text, TimeSpan within)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
        timeout.CancelAfter(within);
        try
        {
            while (await _reader.ReadLineAsync(timeout.Token) is { } line)
                if (line.StartsWith($": {text}", StringComparison.Ordinal)) return;
        }
        catch (OperationCanceledException)
        {
        }
        throw new AssertionException($"No comment '{text}' on the stream within {within.TotalSeconds:0.#} s.");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _closed.CancelAsync();
        _reader.Dispose();
        _response.Dispose();
        _closed.Dispose();
    }
}
