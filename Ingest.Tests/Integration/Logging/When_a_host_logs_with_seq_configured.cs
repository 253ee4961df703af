using System.Text.Json;
using Ingest.ServiceDefaults.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog.Debugging;

namespace Ingest.Tests.Integration.Logging;

[CancelAfter(60_000)]
public class When_a_host_logs_with_seq_configured
{
    // AddIngestLogging turns Serilog's SelfLog on (standard error): do not leave it on for the next tests.
    [TearDown]
    public void TurnSelfLogOff() => SelfLog.Disable();

    static CancellationToken Ct => TestContext.CurrentContext.CancellationToken;

    /// <summary>A host over the shipped appsettings(.Environment).json of the test's output folder, plus <paramref name="settings"/>.</summary>
    static HostApplicationBuilder Builder(string environment, Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    [Test]
    public async Task Events_reach_seq_and_the_file_enriched_with_the_service_and_are_flushed_at_shutdown()
    {
        await using var seq = await SeqListener.StartAsync(Ct);
        var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingest-logs-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            var builder = Builder("Production", new()
            {
                ["Serilog:WriteTo:Console:Args:restrictedToMinimumLevel"] = "Fatal",
                ["Serilog:WriteTo:File:Args:path"] = Path.Combine(logs, "ingest-test-.log"),
                ["Serilog:WriteTo:Seq:Name"] = "Seq",
                ["Serilog:WriteTo:Seq:Args:serverUrl"] = seq.ServerUrl,
                ["Serilog:WriteTo:Seq:Args:apiKey"] = "ops-key",
                ["Serilog:WriteTo:Seq:Args:period"] = "00:10:00", // only the flush at shutdown can ship within this test
            });
            builder.AddIngestLogging("ingest-test");
            using (var host = builder.Build())
            {
                await host.StartAsync(Ct);
                host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Worker")
                    .LogInformation("Committed {EventCount} events in {ElapsedMs} ms", 7, 1.5);
                await host.StopAsync(Ct);
            }

            var committed = seq.Events.Single(e => e.GetProperty("@mt").GetString() == "Committed {EventCount} events in {ElapsedMs} ms");
            Assert.That(committed.GetProperty("Service").GetString(), Is.EqualTo("ingest-test"));
            Assert.That(committed.GetProperty("Host").GetString(), Is.EqualTo(Environment.MachineName));
            Assert.That(committed.GetProperty("Environment").GetString(), Is.EqualTo("Production"));
            Assert.That(committed.GetProperty("Version").GetString(), Is.Not.Empty);
            Assert.That(committed.GetProperty("SourceContext").GetString(), Is.EqualTo("Worker"));
            Assert.That(seq.Requests.Select(r => r.ApiKey), Is.All.EqualTo("ops-key"));

            var file = Directory.GetFiles(logs, "ingest-test-*.log").Single();
            var line = JsonDocument.Parse((await File.ReadAllLinesAsync(file, Ct)).Single(l => l.Contains("Committed", StringComparison.Ordinal))).RootElement;
            Assert.That(line.GetProperty("@m").GetString(), Is.EqualTo("Committed 7 events in 1.5 ms"));
            Assert.That(line.GetProperty("Service").GetString(), Is.EqualTo("ingest-test"));
        }
        finally
        {
            if (Directory.Exists(logs)) Directory.Delete(logs, recursive: true);
        }
    }

    [NonParallelizable]
    [TestCase("Production", true)]
    [TestCase("Development", false)]
    public void The_console_writes_clef_in_production_and_text_in_development(string environment, bool clef)
    {
        var logs = Path.Combine(Path.GetTempPath(), "ingest-logs-" + Guid.NewGuid().ToString("N"));
        var builder = Builder(environment, new() { ["Serilog:WriteTo:File:Args:path"] = Path.Combine(logs, "ingest-test-.log") });
        builder.AddIngestLogging("ingest-test");
        var console = new StringWriter();
        var original = Console.Out;
        Console.SetOut(console);
        try
        {
            using var host = builder.Build();
            host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Api").LogWarning("Broker not confirming for {ElapsedMs} ms", 250);
        }
        finally
        {
            Console.SetOut(original);
            if (Directory.Exists(logs)) Directory.Delete(logs, recursive: true);
        }

        var line = console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Single(l => l.Contains("Broker not confirming", StringComparison.Ordinal));
        if (clef)
        {
            var json = JsonDocument.Parse(line).RootElement;
            Assert.That(json.GetProperty("@m").GetString(), Is.EqualTo("Broker not confirming for 250 ms"));
            Assert.That(json.GetProperty("@l").GetString(), Is.EqualTo("Warning"));
            Assert.That(json.GetProperty("Service").GetString(), Is.EqualTo("ingest-test"));
        }
        else
        {
            Assert.That(line, Does.Match(@"^\[\d\d:\d\d:\d\d\.\d{3} WRN\] Api: Broker not confirming for 250 ms"));
        }
    }
}
