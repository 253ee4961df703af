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

    [TestCase("Ingest.Worker.dll", "QueueType", "quorum", "Ingest:Broker:QueueType is Quorum", "x-queue-type")]
    [TestCase("Ingest.Api.dll", "QueueType", "quorum", "Ingest:Broker:QueueType is Quorum", "x-queue-type")]
    [TestCase("Ingest.Worker.dll", "MaxQueueBytes", "1048576", "with MaxQueueBytes 1048576", "x-max-length-bytes")]
    [TestCase("Ingest.Api.dll", "MaxQueueBytes", "1048576", "with MaxQueueBytes 1048576", "x-max-length-bytes")]
    public async Task The_host_exits_at_start_naming_the_setting_and_the_way_to_migrate(string dll, string setting, string value, string named, string argument)
    {
        await using var host = TestStack.StartHost(dll, _queue, ApiHost.KeySettings(_queue), new Dictionary<string, string> { [$"Ingest__Broker__{setting}"] = value });

        await Eventually.HoldsAsync(_ => Task.FromResult(host.HasExited), TimeSpan.FromSeconds(60), () => $"the host to exit:\n{host.Output}");
        Assert.That(host.ExitCode, Is.Not.Zero);
        Assert.That(host.Output, Does.Contain(named).And.Contain(argument).And.Contain("Ingest:Broker:Queue to a new name"));
    }
}
