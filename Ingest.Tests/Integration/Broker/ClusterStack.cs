using System.Globalization;
using RabbitMQ.Client;

namespace Ingest.Tests.Integration.Broker;

/// <summary>The 3-node RabbitMQ cluster of <c>deploy/stack.sh cluster</c>, beside the stack's single node.</summary>
public static class ClusterStack
{
    /// <summary>Starts the cluster (or finds it running) and returns its nodes' AMQP ports, node 1 first, from <c>cluster env</c>.</summary>
    public static async Task<IReadOnlyList<int>> StartAsync()
    {
        await TestStack.StackAsync("cluster start");
        var (exitCode, output) = await TestStack.RunAsync("bash", "deploy/stack.sh cluster env", new Dictionary<string, string>());
        Assert.That(exitCode, Is.Zero, output);
        return output.Split('\n').Where(l => l.Contains("Ingest__Broker__Nodes__", StringComparison.Ordinal))
            .Select(l => int.Parse(l[(l.LastIndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture)).ToList();
    }

    public static Task StopAsync() => TestStack.StackAsync("cluster stop");

    public static Task StopNodeAsync(int node) => TestStack.StackAsync($"cluster stop-node {node}");

    public static Task StartNodeAsync(int node) => TestStack.StackAsync($"cluster start-node {node}");

    /// <summary>The node (1–3) that holds <paramref name="queue"/>'s quorum leader, as rabbitmqctl list_queues reports it.</summary>
    public static async Task<int> LeaderAsync(string queue)
    {
        var (exitCode, output) = await TestStack.RunAsync("bash", $"deploy/stack.sh cluster leader {queue}", new Dictionary<string, string>());
        Assert.That(exitCode, Is.Zero, output);
        return int.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The node (1–3) a process holds an AMQP connection to, from /proc: the remote ports of its established TCP sockets;
    /// 0 when it holds none.
    /// </summary>
    public static int NodeOf(int pid, IReadOnlyList<int> ports)
    {
        // A descriptor may close between the listing and the read (the API's HTTP connections come and go).
        static string? Target(string fd)
        {
            try { return new FileInfo(fd).LinkTarget; }
            catch (IOException) { return null; }
        }
        var sockets = Directory.GetFiles($"/proc/{pid}/fd").Select(Target)
            .Where(t => t is not null && t.StartsWith("socket:[", StringComparison.Ordinal)).Select(t => t![8..^1]).ToHashSet();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f[3] != "01" || !sockets.Contains(f[9])) continue; // 01: established
                var port = int.Parse(f[2][(f[2].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var node = ports.ToList().IndexOf(port);
                if (node >= 0) return node + 1;
            }
        return 0;
    }

    /// <summary>Deletes a queue on whichever node answers.</summary>
    public static async Task DeleteQueueAsync(IReadOnlyList<int> ports, string queue)
    {
        var factory = new ConnectionFactory { UserName = "guest", Password = "guest" };
        await using var connection = await factory.CreateConnectionAsync(ports.Select(p => new AmqpTcpEndpoint("127.0.0.1", p)).ToList());
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(queue);
        await channel.ExchangeDeleteAsync(queue);
    }
}
