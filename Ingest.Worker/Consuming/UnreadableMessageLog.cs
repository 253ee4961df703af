using System.Runtime.Serialization;
using System.Text.Json;
using Ingest.Broker;
using Ingest.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ingest.Worker.Consuming;

/// <summary>
/// Logs a broker message that cannot be read, in place of MassTransit's own R-FAULT event (which
/// <see cref="UnreadableMessageFaultFilter"/> drops): that one carries the deserializer's exception, and
/// System.Text.Json quotes the rest of the body after a broken literal (<c>tru</c>, <c>fals</c>, <c>nul</c>) in its
/// message, so user ids, traits and IPs would reach every sink. This line names the message, the error queue it moved
/// to and what was wrong (<see cref="Describe"/>), never the body; the dead-letter commands show the body to an operator.
/// </summary>
public sealed class UnreadableMessageLog(IOptions<BrokerOptions> broker, ILogger<UnreadableMessageLog> log) : IReceiveObserver
{
    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        if (IsUnreadable(exception))
            log.LogError("Broker message {MessageId} {Status}: it cannot be read ({Error}); moved alone to {ErrorQueue}, where the dead-letter commands show and replay it",
                context.GetMessageId()?.ToString() ?? context.TransportHeaders.Get<string>("MessageId"), "dead-lettered", Describe(exception), broker.Value.ErrorQueue);
        return Task.CompletedTask;
    }

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;
    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;
    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;
    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;

    /// <summary>A failure to deserialize the message: its text may quote the body.</summary>
    public static bool IsUnreadable(Exception exception) => Chain(exception).Any(e => e is SerializationException or JsonException);

    /// <summary>
    /// Each exception of the chain by type and message, except a JSON reader's message, which quotes the body: of
    /// that, only where the JSON broke. The contract's own errors (a property that is null, a value that does not
    /// convert, with its path in the contract) name types and fields, not values, and are kept.
    /// </summary>
    public static string Describe(Exception exception)
    {
        var chain = Chain(exception).ToList();
        var quotesBody = chain.Any(IsReaderError);
        return string.Join(" ---> ", chain.Where(e => !IsReaderError(e)).Select(e => e switch
        {
            JsonException json when quotesBody => $"{nameof(JsonException)}: not valid JSON at line {json.LineNumber}, byte {json.BytePositionInLine}",
            _ => $"{e.GetType().Name}: {e.Message}",
        }));
    }

    // System.Text.Json's JsonReaderException is internal: known by name.
    static bool IsReaderError(Exception e) => e.GetType().Name == "JsonReaderException";

    static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
            yield return exception;
    }
}
