using System.Net;
using System.Net.Http.Headers;
using System.Text;
using StressTests.Runner;

namespace StressTests.Pipeline;

/// <summary>The one HttpClient every scenario shares (as a load generator should), and the POST and GET steps they use.</summary>
public static class Http
{
    public static HttpClient Client { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = 1024,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    public static AuthenticationHeaderValue Basic(string writeKey) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));

    public static AuthenticationHeaderValue Bearer(string writeKey) => new("Bearer", writeKey);

    /// <summary>POSTs a JSON body; ok when the answer is <paramref name="expected"/>, with the bytes both ways.</summary>
    public static async Task<StepResult> PostAsync(Uri url, byte[] body, AuthenticationHeaderValue? auth, HttpStatusCode expected, long items, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = auth;
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var answer = await response.Content.ReadAsByteArrayAsync(ct);
        var status = (int)response.StatusCode;
        var bytes = body.Length + answer.Length;
        return response.StatusCode == expected
            ? StepResult.Ok(status, bytes, items)
            : StepResult.Fail(status, $"status {status}: {Encoding.UTF8.GetString(answer, 0, Math.Min(answer.Length, 200))}", bytes);
    }

    /// <summary>GETs a path with a read key; ok when the answer is 200, or 404 when <paramref name="notFoundIsOk"/> (a lookup of a random id).</summary>
    public static async Task<StepResult> GetAsync(Uri url, AuthenticationHeaderValue auth, string? accept, bool notFoundIsOk, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = auth } };
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var answer = await response.Content.ReadAsByteArrayAsync(ct);
        var status = (int)response.StatusCode;
        return response.StatusCode == HttpStatusCode.OK || (notFoundIsOk && response.StatusCode == HttpStatusCode.NotFound)
            ? StepResult.Ok(status, answer.Length)
            : StepResult.Fail(status, $"{url.PathAndQuery}: status {status}: {Encoding.UTF8.GetString(answer, 0, Math.Min(answer.Length, 200))}", answer.Length);
    }
}
