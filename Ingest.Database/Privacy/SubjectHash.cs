using System.Security.Cryptography;
using System.Text;

namespace Ingest.Database.Privacy;

/// <summary>
/// A subject's keyed hash, as the database's <c>privacy_subject_hash(kind, subject)</c> computes it (migration 0106):
/// SHA-256 of the database's privacy key followed by "kind:subject" in UTF-8. Suppressions and erasures are kept as
/// these, never as the ids, and the API compares an event's ids with them in memory.
/// </summary>
public static class SubjectHash
{
    public const string UserId = "userId";
    public const string AnonymousId = "anonymousId";

    public static byte[] Of(ReadOnlySpan<byte> key, string kind, string subject)
    {
        var text = Encoding.UTF8.GetBytes($"{kind}:{subject}");
        var input = new byte[key.Length + text.Length];
        key.CopyTo(input);
        text.CopyTo(input.AsSpan(key.Length));
        return SHA256.HashData(input);
    }
}
