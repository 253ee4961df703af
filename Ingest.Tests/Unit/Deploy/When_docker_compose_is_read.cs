using System.ComponentModel.DataAnnotations;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Ingest.Tests.Unit.Deploy;

/// <summary>
/// docker-compose.yml cannot run here (no Docker engine), so its Ingest__Broker__* settings are read as the hosts would
/// read them: bound to <see cref="BrokerOptions"/> (an unknown name fails), then validated as at start.
/// </summary>
public sealed class When_docker_compose_is_read
{
    static readonly Dictionary<string, object> Compose = new DeserializerBuilder().Build()
        .Deserialize<Dictionary<string, object>>(new MergingParser(new Parser(new StringReader(File.ReadAllText(Path.Combine(Integration.TestStack.RepoRoot, "docker-compose.yml"))))));

    static Dictionary<object, object> Services => (Dictionary<object, object>)Compose["services"];

    /// <summary>Each service's environment mapping (anchors resolved), for the services that have one.</summary>
    static IEnumerable<TestCaseData> HostsWithBrokerSettings() =>
        Services.Where(s => s.Value is Dictionary<object, object> service && service.TryGetValue("environment", out var env) && env is Dictionary<object, object>)
            .Select(s => new TestCaseData((string)s.Key, ((Dictionary<object, object>)((Dictionary<object, object>)s.Value)["environment"])
                .Where(e => ((string)e.Key).StartsWith("Ingest__Broker__", StringComparison.Ordinal))
                .ToDictionary(e => ((string)e.Key).Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value?.ToString()))
                .SetArgDisplayNames((string)s.Key))
            .Where(c => ((Dictionary<string, string?>)c.Arguments[1]!).Count > 0);

    [TestCaseSource(nameof(HostsWithBrokerSettings))]
    public void Every_broker_setting_names_a_BrokerOptions_property_with_a_valid_value(string service, Dictionary<string, string?> settings)
    {
        var broker = new ConfigurationBuilder().AddInMemoryCollection(settings).Build()
            .GetSection(BrokerOptions.Section).Get<BrokerOptions>(o => o.ErrorOnUnknownConfiguration = true)!;

        var errors = new List<ValidationResult>();
        Assert.That(Validator.TryValidateObject(broker, new ValidationContext(broker), errors, validateAllProperties: true), Is.True,
            string.Join("; ", errors.Select(e => e.ErrorMessage)));
        Assert.That(broker.QueueType, Is.EqualTo(QueueType.Quorum), "the compose file runs a cluster: its queue is replicated");
        Assert.That(broker.Nodes.Select(n => n.Split(':')[0]), Is.SubsetOf(Services.Keys.Cast<string>()), "every node is a service of the file");
        Assert.That(broker.Nodes, Has.Count.EqualTo(Services.Keys.Cast<string>().Count(k => k.StartsWith("rabbitmq", StringComparison.Ordinal))),
            $"{service} knows every RabbitMQ node of the file");
    }

    [Test]
    public void Both_hosts_have_broker_settings() =>
        Assert.That(HostsWithBrokerSettings().Select(c => (string)c.Arguments[0]!), Is.SupersetOf(new[] { "api-1", "api-2", "worker-1", "worker-2" }));

    [Test]
    public void Postgres_runs_on_the_settings_file_the_stack_starts_its_server_with()
    {
        var postgres = (Dictionary<object, object>)Services["postgres"];
        var command = ((List<object>)postgres["command"]).Cast<string>().ToList();
        var configFile = command.Single(a => a.StartsWith("config_file=", StringComparison.Ordinal))["config_file=".Length..];
        Assert.That(command[command.IndexOf($"config_file={configFile}") - 1], Is.EqualTo("-c"));
        Assert.That(((List<object>)postgres["volumes"]).Cast<string>(), Does.Contain($"./deploy/postgres/postgresql.conf:{configFile}:ro"));
        Assert.That(File.Exists(Path.Combine(Integration.TestStack.RepoRoot, "deploy", "postgres", "postgresql.conf")), Is.True);
    }
}
