using System.ComponentModel.DataAnnotations;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace Ingest.Tests.Unit.Broker;

/// <summary>Ingest:Broker as a deployment writes it (environment variables), bound and validated as the hosts do at start.</summary>
public sealed class When_broker_options_are_validated
{
    static (BrokerOptions Options, List<string?> Errors) Read(Dictionary<string, string?> environment)
    {
        var options = new ConfigurationBuilder()
            .AddInMemoryCollection(environment.ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => e.Value))
            .Build().GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return (options, results.Select(r => r.ErrorMessage).ToList());
    }

    [Test]
    public void The_defaults_are_one_classic_queue_on_host_and_port()
    {
        var (options, errors) = Read([]);

        Assert.That(errors, Is.Empty);
        Assert.That(options.QueueType, Is.EqualTo(QueueType.Classic));
        Assert.That(options.QueueArguments(), Is.Empty, "declared as MassTransit declares a classic queue: no arguments");
        Assert.That(options.Endpoints().Select(e => $"{e.HostName}:{e.Port}"), Is.EqualTo(new[] { "127.0.0.1:5672" }));
    }

    [Test]
    public void Nodes_are_tried_in_the_order_given()
    {
        var (options, errors) = Read(new() { ["Ingest__Broker__Nodes__0"] = "rabbit-1:5672", ["Ingest__Broker__Nodes__1"] = "rabbit-2:5673" });

        Assert.That(errors, Is.Empty);
        Assert.That(options.Endpoints().Select(e => $"{e.HostName}:{e.Port}"), Is.EqualTo(new[] { "rabbit-1:5672", "rabbit-2:5673" }));
    }

    [TestCase("rabbit-1")]
    [TestCase("rabbit-1:")]
    [TestCase("rabbit-1:70000")]
    [TestCase(":5672")]
    public void A_node_that_is_not_host_and_port_is_refused_by_name(string node) =>
        Assert.That(Read(new() { ["Ingest__Broker__Nodes__0"] = node }).Errors, Has.Some.Contains("Ingest:Broker:Nodes").And.Some.Contains(node));

    [Test]
    public void A_delivery_limit_on_a_classic_queue_is_refused() =>
        Assert.That(Read(new() { ["Ingest__Broker__DeliveryLimit"] = "5" }).Errors, Has.Some.Contains("DeliveryLimit").And.Some.Contains("quorum"));

    [Test]
    public void A_quorum_queue_with_a_delivery_limit_dead_letters_into_its_error_queue_at_least_once()
    {
        var (options, errors) = Read(new() { ["Ingest__Broker__QueueType"] = "quorum", ["Ingest__Broker__DeliveryLimit"] = "5", ["Ingest__Broker__Queue"] = "events" });

        Assert.That(errors, Is.Empty);
        Assert.That(options.QueueArguments(), Is.EquivalentTo(new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-delivery-limit"] = 5,
            ["x-dead-letter-exchange"] = "events_error",
            ["x-dead-letter-strategy"] = "at-least-once",
            ["x-overflow"] = "reject-publish",
        }));
        Assert.That(options.ErrorQueueArguments(), Is.EquivalentTo(new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }),
            "the error queue keeps its messages: no limit, no dead-lettering of its own");
    }

    [TestCase("classic")]
    [TestCase("quorum")]
    public void A_bound_on_the_queue_refuses_the_newest_message_and_never_drops_the_oldest(string type)
    {
        var (options, errors) = Read(new() { ["Ingest__Broker__QueueType"] = type, ["Ingest__Broker__MaxQueueBytes"] = "1073741824" });

        Assert.That(errors, Is.Empty);
        Assert.That(options.QueueArguments(), Does.ContainKey("x-max-length-bytes").WithValue(1073741824L));
        Assert.That(options.QueueArguments(), Does.ContainKey("x-overflow").WithValue("reject-publish"), "RabbitMQ's default overflow drops the oldest messages");
        Assert.That(options.ErrorQueueArguments(), Does.Not.ContainKey("x-max-length-bytes").And.Not.ContainKey("x-overflow"), "the error queue keeps its messages");
    }

    [Test]
    public void A_bound_that_is_not_positive_is_refused() =>
        Assert.That(Read(new() { ["Ingest__Broker__MaxQueueBytes"] = "0" }).Errors, Has.Some.Contains("MaxQueueBytes"));
}
