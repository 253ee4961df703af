using Ingest.Tests.Integration.Api;
using Ingest.Tests.Integration.Worker;
using RabbitMQ.Client;

namespace Ingest.Tests.Integration.Broker;

/// <summary>
/// The queue exists as a classic queue with no bound (as every deployment before quorum and bounds made it) and a host
/// starts with QueueType quorum, or with a bound: RabbitMQ refuses the declaration, and the host must stop at start
/// saying what to do, not retry for ever.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public sealed class When_the_queue_exists_with_another_type
{
    string _queue = null!;

    [SetUp]
    public async Task DeclareClassic()
    {
        _queue = EventSender.NewQueue("mismatch");
        await using var connection = await ApiHost.Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(_queue, durable: true, exclusive: false, autoDelete: false);
    }

    [TearDown]
    public async Task Delete()
    {
        await using var connection = await ApiHost.Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(_queue);
    }

    [TestCase("Ingest.Worker.dll")]
    [TestCase("Ingest.Api.dll")]
    public async Task The_host_exits_at_start_naming_the_setting_and_the_way_to_migrate(string dll)
    {
        await using var host = TestStack.StartHost(dll, _queue, ApiHost.KeySettings(_queue), new Dictionary<string, string> { ["Ingest__Broker__QueueType"] = "quorum" });

        await Eventually.HoldsAsync(_ => Task.FromResult(host.HasExited), TimeSpan.FromSeconds(60), () => $"the host to exit:\n{host.Output}");
        Assert.That(host.ExitCode, Is.Not.Zero);
        Assert.That(host.Output, Does.Contain("Ingest:Broker:QueueType is Quorum").And.Contain("x-queue-type").And.Contain("Ingest:Broker:Queue to a new name"));
    }

    [TestCase("Ingest.Worker.dll")]
    [TestCase("Ingest.Api.dll")]
    public async Task A_bound_set_on_an_existing_queue_stops_the_host_at_start_naming_it(string dll)
    {
        await using var host = TestStack.StartHost(dll, _queue, ApiHost.KeySettings(_queue), new Dictionary<string, string> { ["Ingest__Broker__MaxQueueBytes"] = "1048576" });

        await Eventually.HoldsAsync(_ => Task.FromResult(host.HasExited), TimeSpan.FromSeconds(60), () => $"the host to exit:\n{host.Output}");
        Assert.That(host.ExitCode, Is.Not.Zero);
        Assert.That(host.Output, Does.Contain("with MaxQueueBytes 1048576").And.Contain("x-max-length-bytes").And.Contain("Ingest:Broker:Queue to a new name"));
    }
}
