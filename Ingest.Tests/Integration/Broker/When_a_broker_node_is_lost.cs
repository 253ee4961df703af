using Dapper;
using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;

namespace Ingest.Tests.Integration.Broker;

/// <summary>
/// A 3-node RabbitMQ cluster (deploy/stack.sh cluster) with a quorum queue, the API as a process under steady load
/// and two workers; one node is stopped and started again. A request is answered 200 or 503 (never a broken
/// connection), and every event answered 200 is stored, once (the events' primary key).
/// </summary>
[TestFixture, CancelAfter(300_000), NonParallelizable]
public sealed class When_a_broker_node_is_lost
{
    IReadOnlyList<int> _ports = null!;

    [OneTimeSetUp]
    public async Task StartCluster() => _ports = await ClusterStack.StartAsync();

    [OneTimeTearDown]
    public Task StopCluster() => ClusterStack.StopAsync();

    [Test]
    public Task Losing_the_quorum_leader_loses_no_accepted_event(CancellationToken ct) =>
        RunAsync("leader", async (api, queue) =>
        {
            var leader = await ClusterStack.LeaderAsync(queue);
            Assert.That(leader, Is.Not.EqualTo(ClusterStack.NodeOf(api.Id, _ports)), "the leader's node is not the API's: this loses the leader alone");
            return leader;
        }, ct);

    [Test]
    public Task Losing_the_API_s_node_loses_no_accepted_event(CancellationToken ct) =>
        RunAsync("api-node", async (api, queue) =>
        {
            var node = ClusterStack.NodeOf(api.Id, _ports);
            Assert.That(node, Is.Not.Zero, "the API holds a connection to a node");
            Assert.That(node, Is.Not.EqualTo(await ClusterStack.LeaderAsync(queue)), "the API's node is not the leader's: this loses the API's connection alone");
            return node;
        }, ct);

    /// <summary>
    /// Workers first (they declare the queue); then the API, given the two nodes without the queue's leader first, so
    /// the leader and the API's connection are on different nodes. Steady load; the node <paramref name="pick"/>
    /// names is stopped, then started again.
    /// </summary>
    async Task RunAsync(string name, Func<ApiProcess, string, Task<int>> pick, CancellationToken ct)
    {
        var queue = EventSender.NewQueue($"failover-{name}");
        var (source, key, _) = await TestSources.CreateAsync();
        try
        {
            await using var worker1 = await WorkerProcess.StartAsync(queue, Settings(3, 1, 2));
            await using var worker2 = await WorkerProcess.StartAsync(queue, Settings(3, 1, 2));
            var leader = await ClusterStack.LeaderAsync(queue);
            var apiSettings = Settings([.. new[] { 1, 2, 3 }.Where(n => n != leader), leader]);
            apiSettings["Ingest__Broker__Queue"] = queue;
            await using var api = await ApiProcess.StartAsync(apiSettings, ct);
            await api.AcceptsAsync(key);

            var load = SteadyLoad.Start(api.Url, key, name);
            await load.AcceptsMoreAsync(100, "before the loss");
            var node = await pick(api, queue);
            await ClusterStack.StopNodeAsync(node);
            await load.AcceptsMoreAsync(100, $"with node {node} down");
            await ClusterStack.StartNodeAsync(node);
            await load.AcceptsMoreAsync(100, $"after node {node} came back");
            var answers = await load.StopAsync();
            await TestContext.Progress.WriteLineAsync($"{name}: stopped node {node}; answers {load.Summary()}");

            Assert.That(answers.Where(a => a.Status == 0).Select(a => a.Error), Is.Empty, "no request without an answer");
            Assert.That(answers.Select(a => a.Status).Distinct(), Is.SubsetOf(new[] { 200, 503 }));
            var accepted = answers.Where(a => a.Status == 200).SelectMany(a => a.MessageIds).ToList();
            await using var conn = await TestStack.Database.OpenConnectionAsync(ct);
            async Task<List<string>> Missing() => accepted.Except(await conn.QueryAsync<string>(new CommandDefinition(
                "select message_id from events where source_id = @source", new { source }, cancellationToken: ct))).ToList();
            await Eventually.HoldsAsync(async _ => (await Missing()).Count == 0, TimeSpan.FromSeconds(60),
                () => $"{Missing().Result.Count} of {accepted.Count} accepted events not stored");
        }
        finally
        {
            await ClusterStack.DeleteQueueAsync(_ports, queue);
        }
    }

    Dictionary<string, string> Settings(params int[] nodes)
    {
        var settings = new Dictionary<string, string> { ["Ingest__Broker__QueueType"] = "quorum" };
        for (var i = 0; i < nodes.Length; i++) settings[$"Ingest__Broker__Nodes__{i}"] = $"127.0.0.1:{_ports[nodes[i] - 1]}";
        return settings;
    }
}
