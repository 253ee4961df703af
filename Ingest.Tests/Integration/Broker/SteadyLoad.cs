using System.Collections.Concurrent;
using System.Net;
using Ingest.Tests.Integration.Api;

namespace Ingest.Tests.Integration.Broker;

/// <summary>One request's events and what the API answered: a status, or 0 and the error when no answer came.</summary>
public sealed record LoadAnswer(string[] MessageIds, int Status, string? Error);

/// <summary>
/// Steady load through the API: <c>clients</c> clients each post a batch of 10 track events every 20 ms until stopped,
/// as a backend's Segment library would, backing off a little after a 503. Every answer is kept.
/// </summary>
public sealed class SteadyLoad
{
    readonly ConcurrentQueue<LoadAnswer> _answers = new();
    readonly CancellationTokenSource _stop = new();
    Task _running = Task.CompletedTask;

    public int Accepted => _answers.Count(a => a.Status == (int)HttpStatusCode.OK);

    public static SteadyLoad Start(Uri api, string writeKey, string prefix, int clients = 4)
    {
        var load = new SteadyLoad();
        load._running = Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => load.ClientAsync(api, writeKey, $"{prefix}-{c}"))));
        return load;
    }

    async Task ClientAsync(Uri api, string writeKey, string prefix)
    {
        using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            var ids = Enumerable.Range(0, 10).Select(i => $"{prefix}-{n}-{i}").ToArray();
            var body = new { batch = ids.Select(id => new { type = "track", userId = "u1", @event = "Failover", messageId = id }) };
            try
            {
                // Not the stop token: a request under way is answered and counted.
                using var response = await http.SendAsync(ApiHost.Post("/v1/batch", body, writeKey));
                _answers.Enqueue(new LoadAnswer(ids, (int)response.StatusCode, null));
                await Task.Delay(response.StatusCode == HttpStatusCode.OK ? 20 : 200);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _answers.Enqueue(new LoadAnswer(ids, 0, e.Message));
            }
        }
    }

    /// <summary>Waits until <paramref name="more"/> more requests than now have been answered 200.</summary>
    public Task AcceptsMoreAsync(int more, string when)
    {
        var target = Accepted + more;
        return Eventually.HoldsAsync(_ => Task.FromResult(Accepted >= target), TimeSpan.FromSeconds(60),
            () => $"{more} more requests accepted {when}: {Accepted - target + more} so far; answers {Summary()}");
    }

    public async Task<IReadOnlyList<LoadAnswer>> StopAsync()
    {
        await _stop.CancelAsync();
        await _running;
        return _answers.ToList();
    }

    public string Summary() => string.Join(", ", _answers.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
}
