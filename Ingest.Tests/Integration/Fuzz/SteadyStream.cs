using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// A well-behaved client of another source, posting small tracks and batches while the fuzz runs: each of its requests
/// must get 200, whatever the others send.
/// </summary>
public sealed class SteadyStream(HttpClient http, string writeKey)
{
    readonly ConcurrentQueue<string> _failures = new();
    readonly ConcurrentQueue<string> _ids = new();
    int _requests;

    public int Requests => _requests;
    public IReadOnlyCollection<string> Failures => _failures;
    public IReadOnlyCollection<string> MessageIds => _ids;

    /// <summary>Posts from <paramref name="clients"/> clients until <paramref name="ct"/> is cancelled.</summary>
    public Task RunAsync(int clients, CancellationToken ct) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            for (var n = 0; !ct.IsCancellationRequested; n++)
            {
                var ids = Enumerable.Range(0, n % 5 == 0 ? 10 : 1).Select(i => $"steady-{client}-{n}-{i}").ToList();
                var body = ids.Count == 1
                    ? $"{{\"userId\":\"steady\",\"event\":\"Steady\",\"messageId\":\"{ids[0]}\"}}"
                    : $"{{\"batch\":[{string.Join(',', ids.Select(id => $"{{\"type\":\"track\",\"userId\":\"steady\",\"event\":\"Steady\",\"messageId\":\"{id}\"}}"))}]}}";
                using var request = new HttpRequestMessage(HttpMethod.Post, ids.Count == 1 ? "/v1/track" : "/v1/batch")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                    Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":"))) },
                };
                Interlocked.Increment(ref _requests);
                try
                {
                    using var response = await http.SendAsync(request, CancellationToken.None);
                    if (response.StatusCode == System.Net.HttpStatusCode.OK) foreach (var id in ids) _ids.Enqueue(id);
                    else _failures.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    _failures.Enqueue(e.Message);
                }
                await Task.Delay(10, CancellationToken.None);
            }
        })));
}
