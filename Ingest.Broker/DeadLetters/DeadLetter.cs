using System.Security.Cryptography;
using System.Text.Json;
using RabbitMQ.Client;

namespace Ingest.Broker.DeadLetters;

/// <summary>One message of the dead-letter queue, as MassTransit left it there, with its place in the queue (1 = next out).</summary>
public sealed record DeadLetter(
    int Position,
    string MessageId,
    string? ExceptionType,
    string? Reason,
    DateTimeOffset? DeadLetteredAt,
    byte[] Body)
{
    /// <summary>The AMQP message-id (MassTransit sets it to its message id on every send and keeps it on the move to
    /// _error), else the <c>messageId</c> of a JSON envelope, else <c>sha256:</c> and the first 16 hex digits of the body's hash.</summary>
    internal static string IdOf(IReadOnlyBasicProperties properties, byte[] body)
    {
        if (!string.IsNullOrEmpty(properties.MessageId)) return properties.MessageId;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("messageId", out var id) && id.ValueKind == JsonValueKind.String)
                return id.GetString()!;
        }
        catch (JsonException)
        {
            // not JSON: named by its hash
        }
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body))[..16];
    }
}
