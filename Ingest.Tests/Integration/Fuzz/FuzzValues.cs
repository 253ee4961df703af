using System.Text;
using CsCheck;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// Generators of JSON values and property names: well-formed ones, and the odd ones a careless or hostile client
/// sends (NUL, lone surrogates, bytes that are not UTF-8, numbers outside jsonb's range, long strings, deep nesting).
/// </summary>
public static class FuzzValues
{
    const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.:/éüß漢字";

    /// <summary>1 to 24 characters, never blank.</summary>
    public static readonly Gen<string> Word = Gen.Select(Gen.Char[Letters.Replace(" ", "")], Gen.Char[Letters].Array[0, 23], (first, rest) => first + new string(rest));

    public static readonly Gen<JsonText> GoodString = Gen.Frequency(
        (200, Word.Select(JsonText.String)),
        (20, Gen.Const(JsonText.Raw("\"\\ud83d\\ude00 \\u00e9\\n\\t\\\"\\\\\\/\""))), // escapes, a valid surrogate pair
        (10, Gen.Const(JsonText.Raw("\"\""))),
        (1, Gen.Int[1_000, 34_000].Select(n => JsonText.String(new string('x', n)))));

    /// <summary>Strings the database or the broker's JSON cannot carry: each refused wherever it stands.</summary>
    public static readonly Gen<JsonText> UnstorableString = Gen.OneOf(
        Gen.Const(JsonText.Raw("\"a\\u0000b\"", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("\"\\u0000\"", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("\"\\ud800\"", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("\"x\\udfff\"", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("\"\\ud800\\u0041\"", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("\"\\\\\\ud800\"", Verdict.Refuse)), // an escaped backslash, then a lone surrogate
        Gen.Const(JsonText.Quoted([0xFF], Verdict.Refuse)),
        Gen.Const(JsonText.Quoted([(byte)'a', 0xC3, 0x28], Verdict.Refuse)),
        Gen.Const(JsonText.Quoted([0xED, 0xA0, 0x80], Verdict.Refuse)), // a surrogate encoded as UTF-8 (CESU-8)
        Gen.Const(JsonText.Quoted([0xC0, 0x80], Verdict.Refuse)), // an overlong NUL
        Gen.Const(JsonText.Quoted([0xE2, 0x82], Verdict.Refuse))); // cut short

    public static readonly Gen<JsonText> GoodNumber = Gen.OneOf(
        Gen.Int.Select(i => JsonText.Raw(i.ToString())),
        Gen.Double[-1e6, 1e6].Select(d => JsonText.Raw(d.ToString("R"))),
        Gen.OneOf("0", "-0", "-0.0", "1e308", "-1e308", "1.7976931348623157e308", "1e-300", "5e-324", "12345678901234567890", "1E+2", "0.1e-10")
            .Select(n => JsonText.Raw(n)),
        Gen.Int[20, 300].Select(n => JsonText.Raw("9" + new string('1', n))));

    /// <summary>Numbers a 64-bit float or PostgreSQL's numeric cannot hold.</summary>
    public static readonly Gen<JsonText> UnstorableNumber = Gen.OneOf(
        Gen.OneOf("1e309", "-1e309", "1e400000", "-1e400000", "1e-20000", "1e99999999999999999999").Select(n => JsonText.Raw(n, Verdict.Refuse)),
        Gen.Int[320, 200_000].Select(n => JsonText.Raw("1" + new string('0', n), Verdict.Refuse)),
        Gen.Int[16_400, 40_000].Select(n => JsonText.Raw("0." + new string('0', n) + "1", Verdict.Refuse)));

    public static readonly Gen<JsonText> GoodScalar = Gen.Frequency(
        (6, GoodString),
        (3, GoodNumber),
        (1, Gen.OneOf("true", "false", "null").Select(s => JsonText.Raw(s))));

    public static readonly Gen<JsonText> OddScalar = Gen.Frequency((3, UnstorableString), (2, UnstorableNumber));

    public static Gen<JsonText> Scalar(bool hostile) => hostile ? Gen.Frequency((40, GoodScalar), (1, OddScalar)) : GoodScalar;

    public static readonly Gen<JsonText> GoodName = Gen.Frequency(
        (20, Word.Select(JsonText.String)),
        (1, Gen.Const(JsonText.Raw("\"\""))),
        (1, Gen.Const(JsonText.Raw("\"\\ud83d\\ude00\""))));

    public static Gen<JsonText> Name(bool hostile) => hostile ? Gen.Frequency((40, GoodName), (1, UnstorableString)) : GoodName;

    /// <summary>Any value nested at most <paramref name="depth"/> more levels.</summary>
    public static Gen<JsonText> Value(int depth, bool hostile) => depth <= 0
        ? Scalar(hostile)
        : Gen.Frequency((6, Scalar(hostile)), (2, Object(depth - 1, hostile)), (1, Array(depth - 1, hostile)));

    public static Gen<JsonText> Object(int depth, bool hostile) =>
        Gen.Select(Name(hostile), Value(depth, hostile)).Array[0, 5].Select(members => JsonText.Object(members));

    public static Gen<JsonText> Array(int depth, bool hostile) => Value(depth, hostile).Array[0, 6].Select(items => JsonText.Array(items));

    /// <summary>A large array of small values (thousands of items): a big but flat message.</summary>
    public static readonly Gen<JsonText> HugeArray = Gen.Int[1_000, 20_000].Select(n => JsonText.Raw("[" + string.Join(',', Enumerable.Repeat("1", n)) + "]"));

    /// <summary>Objects and arrays nested <c>levels</c> deep: near and past the API's 32 (the body's own levels come on top).</summary>
    public static readonly Gen<JsonText> Nested = Gen.Select(Gen.Int[20, 40], Gen.Bool).Select((levels, objects) =>
    {
        var text = new StringBuilder();
        for (var i = 0; i < levels; i++) text.Append(objects ? "{\"a\":" : "[");
        text.Append('1');
        for (var i = 0; i < levels; i++) text.Append(objects ? '}' : ']');
        return JsonText.Raw(text.ToString(), Verdict.Either);
    });

    /// <summary>What a client may put in properties, traits, context or integrations.</summary>
    public static Gen<JsonText> ObjectField(bool hostile) => hostile
        ? Gen.Frequency(
            (20, Object(3, hostile: true)),
            (1, Gen.Select(Name(false), HugeArray).Select(m => JsonText.Object([m]))),
            (1, Gen.Select(Name(false), Nested).Select(m => JsonText.Object([m]))))
        : Object(2, hostile: false);
}
