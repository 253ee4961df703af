using System.Text;
using System.Text.Json;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// A piece of generated JSON as bytes (so it can hold what no .NET string can: bytes that are not UTF-8, lone
/// surrogate escapes, duplicated keys), with what the API must do with a message that holds it.
/// </summary>
public sealed record JsonText(byte[] Bytes, Verdict Verdict)
{
    public static JsonText Raw(string json, Verdict verdict = Verdict.Accept) => new(Encoding.UTF8.GetBytes(json), verdict);

    /// <summary>A well-formed JSON string holding <paramref name="value"/>.</summary>
    public static JsonText String(string value) => new(JsonSerializer.SerializeToUtf8Bytes(value), Verdict.Accept);

    /// <summary>A JSON string whose contents are the bytes given, as they are (quotes added).</summary>
    public static JsonText Quoted(byte[] inside, Verdict verdict) => new([(byte)'"', .. inside, (byte)'"'], verdict);

    public static JsonText Object(IEnumerable<(JsonText Name, JsonText Value)> members)
    {
        var list = members.ToList();
        var bytes = new List<byte> { (byte)'{' };
        for (var i = 0; i < list.Count; i++)
        {
            if (i > 0) bytes.Add((byte)',');
            bytes.AddRange(list[i].Name.Bytes);
            bytes.Add((byte)':');
            bytes.AddRange(list[i].Value.Bytes);
        }
        bytes.Add((byte)'}');
        return new([.. bytes], list.Select(m => m.Name.Verdict.Worst(m.Value.Verdict)).Worst());
    }

    public static JsonText Array(IEnumerable<JsonText> items)
    {
        var list = items.ToList();
        var bytes = new List<byte> { (byte)'[' };
        for (var i = 0; i < list.Count; i++)
        {
            if (i > 0) bytes.Add((byte)',');
            bytes.AddRange(list[i].Bytes);
        }
        bytes.Add((byte)']');
        return new([.. bytes], list.Select(i => i.Verdict).Worst());
    }

    public JsonText With(Verdict verdict) => this with { Verdict = verdict };

    public override string ToString() => Encoding.UTF8.GetString(Bytes);
}
