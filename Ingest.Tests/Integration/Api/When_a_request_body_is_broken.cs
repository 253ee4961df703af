using Ingest.Broker;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ingest.Tests.Integration.Api;

/// <summary>
/// Kestrel's own verdict on a broken request (a malformed chunk, a body arriving too slowly) keeps its 4xx: the client
/// is told what it did wrong, never a 500. Needs the real Kestrel, so the API listens on a loopback port here.
/// </summary>
public sealed class When_a_request_body_is_broken
{
    ApiHost _api = null!;
    string _key = null!;
    int _port;

    [OneTimeSetUp]
    public async Task Start()
    {
        (_, _key, _) = await TestSources.CreateAsync();
        _api = new ApiHost();
        _port = FreePort.Take();
        _api.UseKestrel(_port);
        _api.StartServer();
        using var client = await _api.StartAsync(_key);
    }

    [OneTimeTearDown]
    public void Stop() => _api.Dispose();


    /// <summary>Sends the bytes as they are and returns the response's status line.</summary>
    async Task<string> StatusLineAsync(string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await reader.ReadLineAsync(timeout.Token) ?? "(connection closed without an answer)";
    }

    string Headers(string extra) =>
        $"POST /v1/track HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
        $"Authorization: Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes(_key + ":"))}\r\n{extra}\r\n";

    [Test]
    public async Task A_malformed_chunk_gets_400()
    {
        var status = await StatusLineAsync(Headers("Transfer-Encoding: chunked\r\n") + "zz\r\n{\"userId\":\"u\"}\r\n0\r\n\r\n");

        Assert.That(status, Does.StartWith("HTTP/1.1 400"));
    }

    [Test]
    public async Task A_chunked_body_larger_than_its_limit_gets_413()
    {
        var chunk = new string(' ', 40 * 1024);
        var status = await StatusLineAsync(Headers("Transfer-Encoding: chunked\r\n") + $"{chunk.Length:x}\r\n{chunk}\r\n0\r\n\r\n");

        Assert.That(status, Does.StartWith("HTTP/1.1 413"));
    }
}
