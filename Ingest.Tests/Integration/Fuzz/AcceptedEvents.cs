using System.Text.Json;
using System.Text.RegularExpressions;
using Ingest.Api.Tracking;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// Which messages of a request the API's answer says it accepted, and the messageId each is stored under: its own, or
/// the one derived from the source, the body and its place in it (docs/sending-events.md: a message without messageId).
/// </summary>
public static partial class AcceptedEvents
{
    /// <summary>The messageIds accepted: all on 200; those not named in <c>errors</c> on a 400 that counts some accepted.</summary>
    /// <returns>Null when the answer contradicts itself (its <c>accepted</c> count differs from the messages it does not name).</returns>
    public static List<string>? Of(FuzzCase request, string sourceId, int status, JsonElement? answer)
    {
        var accepted = status == 200 ? -1 : answer is { } a && a.TryGetProperty("accepted", out var n) && n.TryGetInt32(out var count) ? count : 0;
        if (accepted == 0 || FuzzCase.Parse(request.Json.Bytes) is not { } root) return [];

        var rejected = new HashSet<int>();
        if (status != 200 && answer!.Value.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            foreach (var field in errors.EnumerateObject())
                if (ItemField().Match(field.Name) is { Success: true } m) rejected.Add(int.Parse(m.Groups[1].Value));

        var messages = request.IsBatch ? root.GetProperty("batch").EnumerateArray().ToList()
            : request.IsLegacy ? root.GetProperty("data").EnumerateArray().ToList()
            : [root];
        var derived = new MessageIds(request.Json.Bytes);
        var ids = new List<string>();
        for (var i = 0; i < messages.Count; i++)
        {
            if (rejected.Contains(i)) continue;
            var own = request.IsLegacy || !messages[i].TryGetProperty("messageId", out var id) ? null
                : id.ValueKind == JsonValueKind.String ? id.GetString()
                : id.ValueKind == JsonValueKind.Number ? id.GetRawText()
                : null;
            ids.Add(own ?? derived.For(sourceId, i));
        }
        return accepted < 0 || accepted == ids.Count ? ids : null;
    }

    [GeneratedRegex(@"^(?:batch|data)\[(\d+)\]")]
    private static partial Regex ItemField();
}
