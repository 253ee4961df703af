using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingest.Broker;
using Ingest.Broker.DeadLetters;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Worker.Admin;

/// <summary>
/// <c>Ingest.Worker dead-letters list|replay|drop</c>: the messages MassTransit moved to <c>&lt;queue&gt;_error</c>
/// because the worker could not read them. Listing leaves them in place and in order; replay puts them back on the main
/// queue (confirmed there before they leave _error); drop removes one for good. See <see cref="DeadLetterQueue"/>.
/// The broker is <c>Ingest:Broker</c> of <see cref="AdminSettings"/>.
/// </summary>
static class DeadLetterCommands
{
    const int PreviewBytes = 64;

    public static Command Create(AdminSettings settings)
    {
        var limit = new Option<int>("--limit") { HelpName = "N", Description = "How many, from the head of the queue.", DefaultValueFactory = _ => 100, CustomParser = PositiveNumber };
        var list = new Command("list", "List dead letters, leaving them in place and in order.") { limit };
        list.SetAction((parse, ct) => OnQueue(settings, queue => List(queue, parse.GetValue(limit), ct), ct));

        var all = new Option<bool>("--all") { Description = "Every dead letter." };
        var replayed = MessageId(ArgumentArity.ZeroOrOne);
        var replay = new Command("replay", "Move dead letters back to the main queue, for the worker to try again.") { replayed, all };
        replay.Validators.Add(r =>
        {
            if ((r.GetResult(all) is { Implicit: false }) == (r.GetResult(replayed) is { Tokens.Count: > 0 }))
                r.AddError("replay takes --all or one message id");
        });
        replay.SetAction((parse, ct) => OnQueue(settings, queue => parse.GetValue(replayed) is { } id
            ? Replay(queue, l => l.MessageId == id, id, ct)
            : Replay(queue, _ => true, null, ct), ct));

        var dropped = MessageId(ArgumentArity.ExactlyOne);
        var drop = new Command("drop", "Remove one dead letter for good, after inspection.") { dropped };
        drop.SetAction((parse, ct) => OnQueue(settings, queue => Drop(queue, parse.GetRequiredValue(dropped), ct), ct));

        return new Command("dead-letters", "The messages the worker could not read, in <queue>_error.") { list, replay, drop };
    }

    static Argument<string> MessageId(ArgumentArity arity)
    {
        var id = new Argument<string>("message-id") { Arity = arity };
        id.Validators.Add(r =>
        {
            // No message id starts with '-': one that does is a misspelt option (--al), not an id to look for.
            if (r.Tokens is [{ Value: var value }] && value.StartsWith('-'))
                r.AddError($"{value} is not a message id");
        });
        return id;
    }

    static int PositiveNumber(ArgumentResult result)
    {
        if (int.TryParse(result.Tokens[0].Value, CultureInfo.InvariantCulture, out var n) && n > 0) return n;
        result.AddError($"--limit is a whole number above 0, not {result.Tokens[0].Value}");
        return 0;
    }

    static async Task<int> OnQueue(AdminSettings settings, Func<DeadLetterQueue, Task<int>> command, CancellationToken ct)
    {
        var broker = settings.Broker;
        try
        {
            await using var queue = await DeadLetterQueue.ConnectAsync(broker, ct);
            return await command(queue);
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException or PublishException)
        {
            return await AdminCommands.Fail($"{string.Join(", ", broker.Endpoints().Select(n => $"{n.HostName}:{n.Port}"))}: {e.Message.TrimEnd('.')}. A message leaves _error only once the main queue has confirmed it; the rest stay there.");
        }
    }

    static async Task<int> List(DeadLetterQueue queue, int limit, CancellationToken ct)
    {
        var letters = await queue.PeekAsync(limit, ct);
        foreach (var l in letters)
        {
            Console.WriteLine($"{l.Position}  {l.MessageId}  {(l.DeadLetteredAt is { } at ? at.ToString("u", CultureInfo.InvariantCulture) : "-")}  {l.Body.Length} B  {l.ExceptionType ?? "-"}: {l.Reason ?? "-"}");
            Console.WriteLine($"    {Preview(l.Body)}");
        }
        Console.WriteLine($"{letters.Count} dead letter(s) listed from {queue.ErrorQueue}, left there in order");
        return 0;
    }

    static async Task<int> Replay(DeadLetterQueue queue, Func<DeadLetter, bool> which, string? id, CancellationToken ct)
    {
        var replayed = await queue.ReplayAsync(which, ct);
        foreach (var l in replayed)
            Console.WriteLine($"replayed {l.MessageId}");
        if (id is not null && replayed.Count == 0) return await AdminCommands.Fail($"no dead letter {id} in {queue.ErrorQueue}");
        Console.WriteLine($"{replayed.Count} dead letter(s) moved to {queue.Queue}; one that still cannot be read comes back to {queue.ErrorQueue}");
        return 0;
    }

    static async Task<int> Drop(DeadLetterQueue queue, string id, CancellationToken ct)
    {
        if (await queue.DropAsync(id, ct) is not { } dropped)
            return await AdminCommands.Fail($"no dead letter {id} in {queue.ErrorQueue}");
        Console.WriteLine($"dropped {dropped.MessageId} ({dropped.Body.Length} B) from {queue.ErrorQueue}");
        return 0;
    }

    /// <summary>The body's first bytes as a JSON string: control characters and invalid UTF-8 escaped, so a terminal shows them safely.</summary>
    static string Preview(byte[] body) =>
        JsonSerializer.Serialize(Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, PreviewBytes))) + (body.Length > PreviewBytes ? "…" : "");
}
