using System.Text;
using System.Text.RegularExpressions;
using RabbitMQ.Client;

namespace Ingest.Tests.Integration.Worker;

/// <summary>`Ingest.Worker dead-letters …` run as a process against a test queue, and what its listing says.</summary>
public static partial class DeadLetterCommandLine
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string queue, string arguments) =>
        await TestStack.RunAsync("dotnet", $"\"{TestStack.WorkerDll}\" dead-letters {arguments}", new Dictionary<string, string>
        {
            ["Ingest__Broker__Host"] = "127.0.0.1",
            ["Ingest__Broker__Port"] = TestStack.AmqpPort.ToString(),
            ["Ingest__Broker__Queue"] = queue,
        });

    /// <summary>Runs the command and asserts it succeeded.</summary>
    public static async Task<string> SucceedsAsync(string queue, string arguments)
    {
        var (exitCode, output) = await RunAsync(queue, arguments);
        Assert.That(exitCode, Is.Zero, output);
        return output;
    }

    /// <summary>The listed messages: position, message id and the whole line, in the order printed.</summary>
    public static IReadOnlyList<(int Position, string MessageId, string Line)> Listed(string output) =>
        ListedLine().Matches(output).Select(m => (int.Parse(m.Groups[1].Value), m.Groups[2].Value, m.Value)).ToList();

    [GeneratedRegex(@"^(\d+)  (\S+)  .*$", RegexOptions.Multiline)]
    private static partial Regex ListedLine();

    /// <summary>The unreadable bodies, sent to the worker's queue so that MassTransit moves them to _error itself.</summary>
    public static readonly byte[][] Unreadable =
    [
        Encoding.UTF8.GetBytes("{ this is not json"),
        Encoding.UTF8.GetBytes($$$"""{"messageId":"{{{Guid.NewGuid()}}}","messageType":["urn:message:Ingest.Contracts:EventBatch"],"message":{"batchId":"0f8fad5b-d9cb-469f-a165-70867728950e","publishedAt":"2026-11-22T10:00:00Z","events":null}}"""),
    ];

    /// <summary>Sends <see cref="Unreadable"/> through a running worker and waits until MassTransit has moved them to _error.</summary>
    public static async Task DeadLetterUnreadableAsync(EventSender sender, CancellationToken ct)
    {
        foreach (var body in Unreadable)
            await sender.SendRawAsync(body, "application/vnd.masstransit+json", ct);
        await Eventually.HoldsAsync(async t => await sender.ErrorQueueMessagesAsync(t) == Unreadable.Length, TimeSpan.FromSeconds(30),
            () => $"error queue {sender.ErrorQueueMessagesAsync(CancellationToken.None).Result} of {Unreadable.Length}");
    }

    /// <summary>The headers of the first message of a queue, left in place: what MassTransit put on a dead letter.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> HeadersOfFirstAsync(string queue, CancellationToken ct)
    {
        var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = TestStack.AmqpPort };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        var message = await channel.BasicGetAsync(queue, autoAck: false, ct) ?? throw new InvalidOperationException($"{queue} is empty");
        await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true, ct);
        return (message.BasicProperties.Headers ?? new Dictionary<string, object?>()).ToDictionary(
            h => h.Key, h => h.Value is byte[] b ? Encoding.UTF8.GetString(b) : h.Value?.ToString() ?? "");
    }
}
