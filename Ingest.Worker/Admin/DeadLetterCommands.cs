using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using Ingest.Broker.DeadLetters;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Worker.Admin;

/// <summary>
/// <c>Ingest.Worker dead-letters list|replay|drop</c>: the messages MassTransit moved to <c>&lt;queue&gt;_error</c>
/// because the worker could not read them. Listing leaves them in place and in order; replay puts them back on the main
/// queue (confirmed there before they leave _error); drop removes one for good. See <see cref="DeadLetterQueue"/>.
/// The broker is <c>Ingest:Broker</c>, read as the worker reads it: appsettings.json, then environment variables.
/// </summary>
public static class DeadLetterCommands
{
    public const string Usage = """
               Ingest.Worker dead-letters list [--limit N]
               Ingest.Worker dead-letters replay --all | <message-id>
               Ingest.Worker dead-letters drop <message-id>
        """;

    const int PreviewBytes = 64;

    public static async Task<int> RunAsync(string[] args, Func<string, Task<int>> fail)
    {
        var broker = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .Build().GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
        Func<DeadLetterQueue, Task<int>>? command = args switch
        {
            ["list"] => queue => List(queue, 100),
            ["list", "--limit", var n] when int.TryParse(n, CultureInfo.InvariantCulture, out var limit) && limit > 0 => queue => List(queue, limit),
            ["replay", "--all"] => queue => Replay(queue, _ => true, null, fail),
            ["replay", var id] when !id.StartsWith('-') => queue => Replay(queue, l => l.MessageId == id, id, fail),
            ["drop", var id] when !id.StartsWith('-') => queue => Drop(queue, id, fail),
            _ => null,
        };
        if (command is null) return await fail("usage:\n" + Usage);
        try
        {
            await using var queue = await DeadLetterQueue.ConnectAsync(broker, CancellationToken.None);
            return await command(queue);
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException or PublishException)
        {
            return await fail($"{string.Join(", ", broker.Endpoints().Select(n => $"{n.HostName}:{n.Port}"))}: {e.Message.TrimEnd('.')}. A message leaves _error only once the main queue has confirmed it; the rest stay there.");
        }
    }

    static async Task<int> List(DeadLetterQueue queue, int limit)
    {
        var letters = await queue.PeekAsync(limit, CancellationToken.None);
        foreach (var l in letters)
        {
            Console.WriteLine($"{l.Position}  {l.MessageId}  {(l.DeadLetteredAt is { } at ? at.ToString("u", CultureInfo.InvariantCulture) : "-")}  {l.Body.Length} B  {l.ExceptionType ?? "-"}: {l.Reason ?? "-"}");
            Console.WriteLine($"    {Preview(l.Body)}");
        }
        Console.WriteLine($"{letters.Count} dead letter(s) listed from {queue.ErrorQueue}, left there in order");
        return 0;
    }

    static async Task<int> Replay(DeadLetterQueue queue, Func<DeadLetter, bool> which, string? id, Func<string, Task<int>> fail)
    {
        var replayed = await queue.ReplayAsync(which, CancellationToken.None);
        foreach (var l in replayed)
            Console.WriteLine($"replayed {l.MessageId}");
        if (id is not null && replayed.Count == 0) return await fail($"no dead letter {id} in {queue.ErrorQueue}");
        Console.WriteLine($"{replayed.Count} dead letter(s) moved to {queue.Queue}; one that still cannot be read comes back to {queue.ErrorQueue}");
        return 0;
    }

    static async Task<int> Drop(DeadLetterQueue queue, string id, Func<string, Task<int>> fail)
    {
        if (await queue.DropAsync(id, CancellationToken.None) is not { } dropped)
            return await fail($"no dead letter {id} in {queue.ErrorQueue}");
        Console.WriteLine($"dropped {dropped.MessageId} ({dropped.Body.Length} B) from {queue.ErrorQueue}");
        return 0;
    }

    /// <summary>The body's first bytes as a JSON string: control characters and invalid UTF-8 escaped, so a terminal shows them safely.</summary>
    static string Preview(byte[] body) =>
        JsonSerializer.Serialize(Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, PreviewBytes))) + (body.Length > PreviewBytes ? "…" : "");
}
