using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Ingest.Database.Keys;

/// <summary>
/// A key as the command line prints it and the API reads it: a scope prefix (<c>wk_</c> write, <c>rk_</c> read, <c>ak_</c> admin) and
/// 32 random bytes, base64url. Only its SHA-256 <see cref="Hash"/> and its first <see cref="PrefixLength"/>
/// characters (to name it in lists and revocations) are stored.
/// </summary>
public static class ApiKey
{
    public const int PrefixLength = 10;

    public static string New(string scope) =>
        (scope switch { "write" => "wk_", "admin" => "ak_", _ => "rk_" }) + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string Prefix(string key) => key.Length > PrefixLength ? key[..PrefixLength] : key;
}
