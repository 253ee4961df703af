using System.Text.Json;
using Dapper;
using Ingest.Contracts;

namespace Ingest.Tests.Integration.Queries;

/// <summary>
/// A row of quarantined_events written as the worker writes it when the database refuses an event. The API already
/// refuses what the database is known to refuse, so a test cannot have one quarantined through the API.
/// </summary>
public static class QuarantinedRow
{
    /// <summary>A track event of five minutes ago, as the worker received it.</summary>
    public static AnalyticsEvent Event(string sourceId, string name = "Quarantined Once", string userId = "u-q") => new()
    {
        SourceId = sourceId,
        MessageId = Guid.NewGuid().ToString(),
        Type = "track",
        Event = name,
        UserId = userId,
        Timestamp = DateTimeOffset.UtcNow.AddMinutes(-5),
        ReceivedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
        Properties = JsonDocument.Parse("""{"plan":"pro"}""").RootElement,
    };

    /// <returns>The row's id.</returns>
    /// <param name="sourceId">The row's source, which may differ from the one in the event's own JSON.</param>
    public static async Task<long> InsertAsync(string sourceId, AnalyticsEvent evt, string reason)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("""
            insert into quarantined_events (source_id, message_id, raw, reason, transaction_id, user_id, anonymous_id)
            values (@sourceId, @MessageId, @raw, @reason, gen_random_uuid(), @UserId, @AnonymousId) returning id
            """, new { sourceId, evt.MessageId, raw = JsonSerializer.Serialize(evt, JsonSerializerOptions.Web), reason, evt.UserId, evt.AnonymousId });
    }
}
