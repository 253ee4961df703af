using System.Text.Json;
using Ingest.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Database.Events;

/// <summary>
/// One column of the events table, as <see cref="EventsTable.Columns"/> lists them: its name, PostgreSQL type and
/// nullability, and, for a column the worker writes, how its value is taken from an <see cref="AnalyticsEvent"/> and
/// sent: as one array parameter of a batch (<see cref="ArrayOf"/>) or as one field of a binary COPY row
/// (<see cref="WriteAsync"/>). A column the worker does not write is filled by PostgreSQL (an identity, a default).
/// </summary>
public sealed class EventColumn
{
    /// <summary>Names that are also type names, quoted in every statement as the migrations quote them.</summary>
    static readonly string[] Quoted = ["timestamp"];

    readonly Func<IReadOnlyList<AnalyticsEvent>, NpgsqlParameter>? _array;
    readonly Func<NpgsqlBinaryImporter, AnalyticsEvent, CancellationToken, Task>? _copy;

    EventColumn(string name, string type, bool notNull, bool read, Func<AnalyticsEvent, string?>? text = null,
        Func<IReadOnlyList<AnalyticsEvent>, NpgsqlParameter>? array = null, Func<NpgsqlBinaryImporter, AnalyticsEvent, CancellationToken, Task>? copy = null)
    {
        Name = name;
        Sql = Quoted.Contains(name) ? $"\"{name}\"" : name;
        Type = type;
        NotNull = notNull;
        IsRead = read;
        Property = string.Concat(name.Split('_').Select(word => char.ToUpperInvariant(word[0]) + word[1..]));
        TextOf = text;
        _array = array;
        _copy = copy;
    }

    /// <summary>The column's name, as information_schema.columns spells it.</summary>
    public string Name { get; }

    /// <summary>The name as a statement writes it: quoted where it is also a type name (<c>"timestamp"</c>).</summary>
    public string Sql { get; }

    /// <summary>The PostgreSQL type, as a statement writes it (<c>timestamptz</c>, <c>jsonb</c>…).</summary>
    public string Type { get; }

    public bool NotNull { get; }

    /// <summary>
    /// The name in PascalCase: the property of <see cref="AnalyticsEvent"/> a written column is taken from, and the
    /// property of the read side's row (Ingest.Api's <c>EventRow</c>) a read column is read into.
    /// </summary>
    public string Property { get; }

    /// <summary>
    /// In the read side's row (<see cref="EventsTable.ReadSelectList"/>). The source and the transaction id are not: the
    /// read side filters by the one and orders the live tail by the other, and selects them on their own where it needs them.
    /// </summary>
    public bool IsRead { get; }

    /// <summary>The worker writes it, from the event; otherwise PostgreSQL fills it.</summary>
    public bool IsWritten => _array is not null;

    public bool IsJson => Type == "jsonb";

    /// <summary>
    /// The PostgreSQL type of the array the worker sends the column in. JSON goes as its raw text: the statements cast
    /// it to jsonb (and <c>insert_events_one_by_one</c>, migration 0105, takes text[]).
    /// </summary>
    public string ArrayType => (IsJson ? "text" : Type) + "[]";

    /// <summary>For a text column the worker writes, its value in an event; null for any other column.</summary>
    public Func<AnalyticsEvent, string?>? TextOf { get; }

    /// <summary>The column's values in <paramref name="events"/>, as one array parameter named <see cref="Name"/>.</summary>
    public NpgsqlParameter ArrayOf(IReadOnlyList<AnalyticsEvent> events) => (_array ?? throw NotWritten())(events);

    /// <summary>The column's value in <paramref name="e"/>, as the next field of the COPY row under way.</summary>
    public Task WriteAsync(NpgsqlBinaryImporter copy, AnalyticsEvent e, CancellationToken ct) => (_copy ?? throw NotWritten())(copy, e, ct);

    InvalidOperationException NotWritten() => new($"The events column {Name} is filled by PostgreSQL, not written by the worker.");

    /// <summary>A column PostgreSQL fills: an identity or a default.</summary>
    internal static EventColumn Generated(string name, string type, bool notNull, bool read = true) => new(name, type, notNull, read);

    internal static EventColumn Text(string name, Func<AnalyticsEvent, string?> value, bool notNull = false, bool read = true) =>
        new(name, "text", notNull, read, value, ArrayParameter(name, NpgsqlDbType.Text, value),
            (copy, e, ct) => value(e) is { } v ? copy.WriteAsync(v, NpgsqlDbType.Text, ct) : copy.WriteNullAsync(ct));

    /// <summary>A time that is always there, sent in UTC.</summary>
    internal static EventColumn Time(string name, Func<AnalyticsEvent, DateTimeOffset> value) =>
        new(name, "timestamptz", notNull: true, read: true, array: ArrayParameter(name, NpgsqlDbType.TimestampTz, e => value(e).UtcDateTime),
            copy: (copy, e, ct) => copy.WriteAsync(value(e).UtcDateTime, NpgsqlDbType.TimestampTz, ct));

    /// <summary>A time that may be missing, sent in UTC.</summary>
    internal static EventColumn TimeOrNull(string name, Func<AnalyticsEvent, DateTimeOffset?> value) =>
        new(name, "timestamptz", notNull: false, read: true, array: ArrayParameter(name, NpgsqlDbType.TimestampTz, e => value(e)?.UtcDateTime),
            copy: (copy, e, ct) => value(e) is { } v ? copy.WriteAsync(v.UtcDateTime, NpgsqlDbType.TimestampTz, ct) : copy.WriteNullAsync(ct));

    internal static EventColumn Flag(string name, Func<AnalyticsEvent, bool> value) =>
        new(name, "boolean", notNull: true, read: true, array: ArrayParameter(name, NpgsqlDbType.Boolean, value),
            copy: (copy, e, ct) => copy.WriteAsync(value(e), NpgsqlDbType.Boolean, ct));

    /// <summary>JSON, sent as its raw text: in an array as text (see <see cref="ArrayType"/>), in COPY as jsonb.</summary>
    internal static EventColumn Json(string name, Func<AnalyticsEvent, JsonElement?> value) =>
        new(name, "jsonb", notNull: false, read: true, array: ArrayParameter(name, NpgsqlDbType.Text, e => value(e)?.GetRawText()),
            copy: (copy, e, ct) => value(e) is { } v ? copy.WriteAsync(v.GetRawText(), NpgsqlDbType.Jsonb, ct) : copy.WriteNullAsync(ct));

    /// <summary>
    /// An array parameter of one column. The element type is explicit: inferred, an array of nullable times whose first
    /// value is null becomes timestamp without time zone, and the first UTC value after it fails the whole batch.
    /// </summary>
    static Func<IReadOnlyList<AnalyticsEvent>, NpgsqlParameter> ArrayParameter<T>(string name, NpgsqlDbType elementType, Func<AnalyticsEvent, T> value) =>
        events =>
        {
            var values = new T[events.Count];
            for (var i = 0; i < values.Length; i++) values[i] = value(events[i]);
            return new NpgsqlParameter<T[]>(name, NpgsqlDbType.Array | elementType) { TypedValue = values };
        };
}
