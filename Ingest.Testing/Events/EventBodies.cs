using System.Globalization;
using System.Text;

namespace Ingest.Testing.Events;

/// <summary>
/// The request bodies of the scenarios, in the public contract's formats (DESIGN.md): Segment's track and batch,
/// and the seeds' /analytics. Ids and names are plain ASCII, so the JSON is written directly.
/// </summary>
public static class EventBodies
{
    const string Properties = """{"plan":"pro","amount":12.5,"path":"/pricing","referrer":"https://example.com/"}""";

    static string Now => DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    static string TrackJson(string messageId, string userId, string type) =>
        $$"""{{{type}}"userId":"{{userId}}","event":"Clicked","properties":{{Properties}},"messageId":"{{messageId}}","timestamp":"{{Now}}"}""";

    /// <summary>POST /v1/track: one event.</summary>
    public static byte[] Track(string messageId) => Encoding.UTF8.GetBytes(TrackJson(messageId, $"u{messageId.Length % 7}", ""));

    /// <summary>
    /// POST /v1/batch: <paramref name="size"/> track events, each message id a random UUID, as Segment's libraries make
    /// them, each user one of 65,536, as in the generated events (StressTests' GeneratedEvents).
    /// </summary>
    public static byte[] Batch(int size)
    {
        var sb = new StringBuilder("""{"batch":[""");
        for (var i = 0; i < size; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(TrackJson(Guid.NewGuid().ToString(), $"u{Random.Shared.Next(65_536)}", "\"type\":\"track\","));
        }
        sb.Append(CultureInfo.InvariantCulture, $$"""],"sentAt":"{{Now}}"}""");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>
    /// POST /analytics, the seeds' format: <paramref name="size"/> key/value items, each stored as a track event. The
    /// format has no messageId: the API derives one from the body, so two equal bodies are one set of events (a
    /// client's retry); each request's values carry a token of their own, as real events differ.
    /// </summary>
    public static byte[] Analytics(string pennkey, int size)
    {
        var request = Guid.NewGuid().ToString("N")[..12];
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture, $$"""{"product":1,"pennkey":"{{pennkey}}","timestamp":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"data":[""");
        for (var i = 0; i < size; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(CultureInfo.InvariantCulture, $$"""{"key":"stress.key{{i}}","value":"value {{i}} of {{request}}"}""");
        }
        sb.Append("]}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
