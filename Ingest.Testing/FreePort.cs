using System.Net;
using System.Net.Sockets;

namespace Ingest.Testing;

/// <summary>A loopback port no one listens on now: the OS picks it, so parallel runs and fixtures never collide.</summary>
public static class FreePort
{
    public static int Take()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>http://127.0.0.1:&lt;a free port&gt;/</summary>
    public static Uri LoopbackUrl() => new($"http://127.0.0.1:{Take()}");
}
