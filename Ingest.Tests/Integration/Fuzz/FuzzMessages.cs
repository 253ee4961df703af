using CsCheck;

namespace Ingest.Tests.Integration.Fuzz;

/// <summary>
/// Generators of Segment messages, batches and the seeds' /analytics bodies. Well-formed ones (the API must accept
/// them) and, when hostile, ones with any field missing, mistyped, too long, unstorable, duplicated or extreme.
/// </summary>
public static class FuzzMessages
{
    public static readonly string[] Types = ["track", "identify", "page", "screen", "group", "alias"];

    /// <summary>Some members of a message (none when a field is left out), and what leaving it out or filling it means.</summary>
    sealed record Part((JsonText Name, JsonText Value)[] Members, Verdict Verdict);

    static Gen<Part> Field(string name, Gen<JsonText> value) =>
        value.Select(v => new Part([(JsonText.String(name), v)], Verdict.Accept));

    static Gen<Part> Absent(Verdict verdict = Verdict.Accept) => Gen.Const(new Part([], verdict));

    /// <param name="absent">How often the field is left out (of 16 times it is there).</param>
    /// <param name="whenAbsent">Refuse for a field the contract requires.</param>
    static Gen<Part> Field(string name, Gen<JsonText> good, Gen<JsonText> bad, bool hostile, int absent = 0, Verdict whenAbsent = Verdict.Accept) =>
        hostile && absent > 0 ? Gen.Frequency((16, Field(name, good)), (absent, Absent(whenAbsent)), (2, Field(name, bad)))
        : hostile ? Gen.Frequency((16, Field(name, good)), (2, Field(name, bad)))
        : absent > 0 && whenAbsent == Verdict.Accept ? Gen.Frequency((16, Field(name, good)), (absent, Absent()))
        : Field(name, good);

    static readonly Gen<JsonText> Refused = Gen.OneOf(
        Gen.Const(JsonText.Raw("true", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("{}", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("[1]", Verdict.Refuse)),
        FuzzValues.UnstorableString);

    static readonly Gen<JsonText> GoodId = Gen.Frequency(
        (10, FuzzValues.Word.Select(JsonText.String)),
        (1, Gen.Int[0, int.MaxValue].Select(i => JsonText.Raw(i.ToString()))),
        (1, Gen.Const(JsonText.String(new string('i', 255)))));

    static readonly Gen<JsonText> BadId = Gen.Frequency(
        (3, Refused),
        (1, Gen.Const(JsonText.Raw("\"\"", Verdict.Refuse))),
        (1, Gen.Int[256, 5_000].Select(n => JsonText.String(new string('i', n)).With(Verdict.Refuse))));

    static readonly Gen<JsonText> GoodName = Gen.Frequency(
        (10, FuzzValues.Word.Select(JsonText.String)),
        (1, Gen.Const(JsonText.String(new string('n', 512)))));

    static readonly Gen<JsonText> BadName = Gen.Frequency(
        (3, Refused),
        (1, Gen.Const(JsonText.Raw("\"   \"", Verdict.Refuse))),
        (1, Gen.Int[513, 4_000].Select(n => JsonText.String(new string('n', n)).With(Verdict.Refuse))));

    /// <summary>Only a track's event must not be blank; a page's name or an /analytics key may be.</summary>
    static JsonText BlankAllowed(JsonText name) => name.ToString() == "\"   \"" ? name.With(Verdict.Either) : name;

    static readonly Gen<JsonText> GoodTime = Gen.Int[-30 * 24 * 3600, 3600].Select(s =>
        JsonText.String(DateTimeOffset.UtcNow.AddSeconds(s).ToString("yyyy-MM-ddTHH:mm:ss.fffZ")));

    /// <summary>Dates at the ends of the calendar: whether they are accepted depends on their pair (timestamp, sentAt).</summary>
    static readonly Gen<JsonText> ExtremeTime = Gen.OneOf(
        "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.0000001Z", "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z").Select(t => JsonText.String(t).With(Verdict.Either));

    static readonly Gen<JsonText> BadTime = Gen.OneOf(
        Gen.OneOf("yesterday", "2026-13-45T00:00:00Z", "2026-02-30", "10000-01-01T00:00:00Z", "").Select(t => JsonText.String(t).With(Verdict.Refuse)),
        Gen.Const(JsonText.Raw("1700000000", Verdict.Refuse)),
        Refused);

    static Gen<Part> Time(string name, bool hostile) => hostile
        ? Gen.Frequency((6, Absent()), (6, Field(name, GoodTime)), (2, Field(name, ExtremeTime)), (1, Field(name, BadTime)))
        : Gen.Frequency((1, Absent()), (1, Field(name, GoodTime)));

    static readonly Gen<JsonText> NotAnObject = Gen.OneOf(
        Gen.Const(JsonText.Raw("\"a string\"", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("[1,2]", Verdict.Refuse)),
        Gen.Const(JsonText.Raw("5", Verdict.Refuse)));

    /// <summary>A message of the type given; <paramref name="typed"/> when it must name its type (a batch item).</summary>
    public static Gen<JsonText> Message(string type, bool typed, bool hostile)
    {
        var fields = new List<Gen<Part>>();
        if (typed)
            fields.Add(Field("type", Gen.Const(JsonText.String(type)),
                Gen.OneOf(Gen.OneOf("Track", "event", "batch", "").Select(t => JsonText.String(t).With(Verdict.Refuse)), Refused), hostile, absent: 1, whenAbsent: Verdict.Refuse));
        fields.Add(Field("messageId", Gen.Guid.Select(g => JsonText.String(g.ToString())), BadId, hostile, absent: 2));
        // userId or anonymousId is required: both missing is refused.
        var user = new List<(int, IGen<Part>)>
        {
            (8, Field("userId", GoodId, BadId, hostile)),
            (3, Field("anonymousId", GoodId, BadId, hostile)),
            (1, Gen.Select(Field("userId", GoodId), Field("anonymousId", GoodId), (a, b) => new Part([.. a.Members, .. b.Members], Verdict.Accept))),
        };
        if (hostile) user.Add((1, Absent(Verdict.Refuse))); // neither: refused
        fields.Add(Gen.Frequency(user.ToArray()));
        switch (type)
        {
            case "track":
                fields.Add(Field("event", GoodName, BadName, hostile, absent: 1, whenAbsent: Verdict.Refuse));
                break;
            case "page" or "screen":
                fields.Add(Field("name", GoodName, BadName.Select(BlankAllowed), hostile, absent: 4));
                break;
            case "group":
                fields.Add(Field("groupId", GoodId, BadId, hostile, absent: 1, whenAbsent: Verdict.Refuse));
                break;
            case "alias":
                fields.Add(Field("previousId", GoodId, BadId, hostile, absent: 1, whenAbsent: Verdict.Refuse));
                break;
        }
        fields.Add(Time("timestamp", hostile));
        fields.Add(Time("sentAt", hostile));
        foreach (var name in new[] { "properties", "traits", "context", "integrations" })
            fields.Add(Field(name, FuzzValues.ObjectField(hostile), NotAnObject, hostile, absent: 8));
        if (hostile)
            fields.Add(Gen.Frequency((10, Absent()), (1, Gen.Select(FuzzValues.Name(true), FuzzValues.Value(2, true)).Select(m => new Part([m], Verdict.Accept)))));

        return Body(fields, hostile);
    }

    /// <summary>Sometimes one member twice, the second time with another value: which one counts is the parser's choice.</summary>
    static List<(JsonText Name, JsonText Value)> Duplicated(List<(JsonText Name, JsonText Value)> members, int n)
    {
        if (n != 0 || members.Count == 0) return members;
        var twice = members[^1];
        return [.. members, (twice.Name, JsonText.Raw("\"second\"", Verdict.Either))];
    }

    /// <summary>A message of any type, as a batch item.</summary>
    public static Gen<JsonText> Item(bool hostile) => Gen.OneOf(Types).SelectMany(type => Message(type, typed: true, hostile));

    /// <summary>The smallest well-formed item, for batches of thousands.</summary>
    static readonly Gen<JsonText> SmallItem = Gen.Guid.Select(id => JsonText.Raw($"{{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\",\"messageId\":\"{id}\"}}"));

    /// <summary>A batch-level context or integrations: shared by every item, so merged into each before it is measured.</summary>
    static Gen<JsonText> SharedObject(bool hostile) => hostile
        ? Gen.Frequency(
            (6, FuzzValues.Object(2, hostile: true)),
            (2, Gen.Int[5_000, 80_000].Select(n => JsonText.Raw($"{{\"page\":{{\"title\":\"{new string('t', n)}\"}}}}", Verdict.Either))),
            (1, NotAnObject))
        : FuzzValues.Object(2, hostile: false);

    /// <summary><c>{"batch":[…], "sentAt", "context", "integrations"}</c>: mostly a few items, sometimes thousands.</summary>
    public static Gen<JsonText> Batch(bool hostile)
    {
        var items = Gen.Frequency(
            (20, Item(hostile).Array[0, 12]),
            (2, Item(hostile: false).Array[20, 120]),
            (1, SmallItem.Array[100, 2_600]));
        var batch = hostile
            ? Gen.Frequency((30, items.Select(i => JsonText.Array(i))), (1, NotAnObject), (1, Gen.Const(JsonText.Raw("null", Verdict.Refuse))))
            : items.Select(i => JsonText.Array(i));
        var parts = new List<Gen<Part>>
        {
            Field("batch", batch),
            Time("sentAt", hostile).Select(t => t with { Members = [.. t.Members.Select(m => (m.Name, m.Value.With(Verdict.Either)))] }), // a batch's own sentAt is used when it can be read
            hostile ? Gen.Frequency((6, Absent()), (1, Field("context", SharedObject(true)))) : Gen.Frequency((3, Absent()), (1, Field("context", SharedObject(false)))),
            hostile ? Gen.Frequency((8, Absent()), (1, Field("integrations", SharedObject(true)))) : Absent(),
        };
        return Body(parts, hostile);
    }

    /// <summary>The seeds' format: <c>{"product": 0–10, "pennkey", "timestamp": unix s, "data": [{"key","value","timestamp"?}]}</c>.</summary>
    public static Gen<JsonText> Legacy(bool hostile)
    {
        var unixSeconds = Gen.Long[1_600_000_000, 1_800_000_000].Select(s => JsonText.Raw(s.ToString()));
        var badSeconds = Gen.OneOf(
            Gen.OneOf("-1", "253402300800", "1e300", "\"1700000000\"").Select(s => JsonText.Raw(s, Verdict.Refuse)),
            Gen.OneOf("0", "253402300799", "1700000000.5").Select(s => JsonText.Raw(s, Verdict.Either)));
        var item = Gen.Select(
            Field("key", GoodName, BadName.Select(BlankAllowed), hostile, absent: 1, whenAbsent: Verdict.Refuse),
            Field("value", FuzzValues.Value(2, hostile), FuzzValues.OddScalar, hostile, absent: 2),
            hostile ? Gen.Frequency((4, Absent()), (2, Field("timestamp", unixSeconds)), (1, Field("timestamp", badSeconds))) : Gen.Frequency((1, Absent()), (1, Field("timestamp", unixSeconds))),
            (k, v, t) =>
            {
                var o = JsonText.Object([.. k.Members, .. v.Members, .. t.Members]);
                return o.With(new[] { o.Verdict, k.Verdict, v.Verdict, t.Verdict }.Worst());
            });
        var items = Gen.Frequency((20, item.Array[1, 12]), (1, item.Array[50, 300]));
        var parts = new List<Gen<Part>>
        {
            Field("product", Gen.Int[0, 10].Select(p => JsonText.Raw(p.ToString())),
                Gen.OneOf("11", "-1", "\"3\"", "2.5", "null", "1e400000").Select(p => JsonText.Raw(p, Verdict.Refuse)), hostile, absent: 1, whenAbsent: Verdict.Refuse),
            Field("pennkey", Gen.Frequency((5, FuzzValues.Word.Select(JsonText.String)), (1, Gen.Const(JsonText.Raw("null")))), BadId, hostile, absent: 2),
            Field("timestamp", unixSeconds, badSeconds, hostile, absent: 1, whenAbsent: Verdict.Refuse),
            Field("data", items.Select(i => JsonText.Array(i)),
                Gen.OneOf(Gen.Const(JsonText.Raw("[]", Verdict.Refuse)), NotAnObject.Where(v => v.ToString() != "[1,2]")), hostile, absent: 1, whenAbsent: Verdict.Refuse),
        };
        return Body(parts, hostile);
    }

    static Gen<JsonText> Body(List<Gen<Part>> fields, bool hostile)
    {
        var parts = fields.Aggregate(Gen.Const(System.Array.Empty<Part>()), (all, field) => Gen.Select(all, field, (a, p) => (Part[])[.. a, p]));
        return Gen.Select(parts, hostile ? Gen.Int[0, 30] : Gen.Const(1), (parts, n) =>
        {
            var body = JsonText.Object(Duplicated(parts.SelectMany(p => p.Members).ToList(), n));
            return body.With(body.Verdict.Worst(parts.Select(p => p.Verdict).Worst()));
        });
    }
}
