using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Ingest.Broker;

/// <summary>
/// A node answers on its port. MassTransit's own bus check stays healthy on a bus without receive endpoints (the
/// API's) while the broker is gone, so readiness asks the broker itself: ready while one of the nodes answers.
/// </summary>
sealed class BrokerReachableCheck(IOptions<BrokerOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var errors = new List<string>();
        foreach (var node in options.Value.Endpoints())
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                await client.ConnectAsync(node.HostName, node.Port, timeout.Token);
                return HealthCheckResult.Healthy($"{node.HostName}:{node.Port} answers");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                errors.Add($"{node.HostName}:{node.Port} does not answer: {e.Message}");
            }
        }
        return HealthCheckResult.Unhealthy(string.Join("; ", errors));
    }
}
