using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ingest.Api.Events;
using Ingest.Contracts;
using Ingest.Database.Events;
using Ingest.Worker.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Tests.Unit.Database;

/// <summary>
/// The statements, parameters and types that are derived from EventsTable or written out beside it, read back and
/// compared with it column by column. The definition itself is compared with the migrated database by
/// Integration/Database/When_the_events_table_is_migrated.
/// </summary>
public sealed class When_the_events_row_is_defined
{
    static readonly string[] WrittenNames = EventsTable.Written.Select(c => c.Name).ToArray();
    static readonly string[] ReadProperties = EventsTable.Read.Select(c => c.Property).ToArray();

    /// <summary>An event whose every field holds a value no other field holds.</summary>
    static AnalyticsEvent DistinctEvent() => new()
    {
        SourceId = "source", MessageId = "message", Type = "track", Event = "event", Name = "name", UserId = "user", AnonymousId = "anonymous",
        GroupId = "group", PreviousId = "previous",
        Timestamp = new DateTimeOffset(2025, 1, 1, 1, 0, 0, TimeSpan.FromHours(2)),
        OriginalTimestamp = new DateTimeOffset(2025, 1, 2, 1, 0, 0, TimeSpan.FromHours(2)),
        SentAt = new DateTimeOffset(2025, 1, 3, 1, 0, 0, TimeSpan.FromHours(2)),
        ReceivedAt = new DateTimeOffset(2025, 1, 4, 1, 0, 0, TimeSpan.FromHours(2)),
        TimestampClamped = true,
        Properties = JsonElement.Parse("""{"p":1}"""), Traits = JsonElement.Parse("""{"t":2}"""),
        Context = JsonElement.Parse("""{"c":3}"""), Integrations = JsonElement.Parse("""{"i":4}"""),
    };

    /// <summary>What the worker must send for an event's field: times in UTC, JSON as its raw text.</summary>
    static object? Sent(object? value) => value switch
    {
        DateTimeOffset time => time.UtcDateTime,
        JsonElement json => json.GetRawText(),
        _ => value,
    };

    static string[] List(string text) => text.Split(',', StringSplitOptions.TrimEntries);

    static string[] Names(string columnList) => List(columnList).Select(c => c.Trim('"')).ToArray();

    static IEnumerable<PropertyInfo> Declared(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).OrderBy(p => p.MetadataToken);

    [Test]
    public void Every_field_of_the_message_is_written_to_its_column()
    {
        var fields = Declared(typeof(AnalyticsEvent)).Select(p => p.Name);
        Assert.That(EventsTable.Written.Select(c => c.Property), Is.EqualTo(fields));
    }

    [Test]
    public void The_unnest_insert_names_the_written_columns_each_from_its_array_in_order()
    {
        var rows = Regex.Match(UnnestInsert.InsertNewEvents, @"from unnest\((?<arrays>.*)\) with ordinality as b\((?<names>[^)]*), ordinal\)", RegexOptions.Singleline);
        Assert.That(rows.Success, Is.True, UnnestInsert.InsertNewEvents);
        Assert.That(List(rows.Groups["arrays"].Value),
            Is.EqualTo(EventsTable.Written.Select(c => c.IsJson ? $"@{c.Name}::jsonb[]" : $"@{c.Name}")), "each column's array, JSON cast to jsonb");
        Assert.That(Names(rows.Groups["names"].Value), Is.EqualTo(WrittenNames), "the arrays' names");
        AssertInsertsTheWrittenColumns(UnnestInsert.InsertNewEvents);
    }

    [Test]
    public void Insert_events_one_by_one_is_called_with_the_written_columns_arrays_in_order()
    {
        var call = Regex.Match(OneByOneInsert.InsertEventsOneByOne, @"from insert_events_one_by_one\((?<arrays>[^)]*)\)");
        Assert.That(call.Success, Is.True, OneByOneInsert.InsertEventsOneByOne);
        Assert.That(List(call.Groups["arrays"].Value), Is.EqualTo(WrittenNames.Select(n => "@" + n)));
    }

    [Test]
    public void The_arrays_hold_each_columns_values_typed_for_it()
    {
        var e = DistinctEvent();
        using var command = new NpgsqlCommand();
        EventArrays.Add(command.Parameters, [e]);

        Assert.That(command.Parameters.Select(p => p.ParameterName), Is.EqualTo(WrittenNames));
        foreach (var (column, parameter) in EventsTable.Written.Zip(command.Parameters))
        {
            var expected = Sent(typeof(AnalyticsEvent).GetProperty(column.Property)!.GetValue(e));
            Assert.That(((Array)parameter.Value!).GetValue(0), Is.EqualTo(expected), column.Name);
            var element = column.Type switch
            {
                "timestamptz" => NpgsqlDbType.TimestampTz,
                "boolean" => NpgsqlDbType.Boolean,
                _ => NpgsqlDbType.Text, // text, and JSON as its text
            };
            Assert.That(parameter.NpgsqlDbType, Is.EqualTo(NpgsqlDbType.Array | element), column.Name);
        }
    }

    [Test]
    public void The_copy_names_the_written_columns_in_order_then_stored_at()
    {
        var copy = Regex.Match(CopyInsert.CopyIntoEvents, @"copy events \((?<columns>[^)]*), stored_at\)\s+from stdin \(format binary\)");
        Assert.That(copy.Success, Is.True, CopyInsert.CopyIntoEvents);
        Assert.That(Names(copy.Groups["columns"].Value), Is.EqualTo(WrittenNames));
    }

    [Test]
    public void The_claim_sends_the_key_and_the_filter_s_columns_as_arrays_named_for_the_columns()
    {
        var events = new[] { DistinctEvent() };
        var claim = NewEvents.ClaimKeysOf(events);
        var unnest = Regex.Match(claim.CommandText, @"from unnest\((?<arguments>[^)]*)\) with ordinality\s+as b\((?<columns>[^)]*), ordinal\)");
        Assert.That(unnest.Success, Is.True, claim.CommandText);
        var names = new[] { "source_id", "message_id", "user_id", "anonymous_id", "received_at" };
        Assert.That(Names(unnest.Groups["columns"].Value), Is.EqualTo(names));
        Assert.That(Names(unnest.Groups["arguments"].Value), Is.EqualTo(names.Select(n => "@" + n)));
        Assert.That(claim.Parameters.Select(p => p.ParameterName), Is.EqualTo(names));
    }

    /// <summary>NewEvents' statement: the batch's columns, and the events' columns and values, are the written ones in order.</summary>
    static void AssertInsertsTheWrittenColumns(string statement)
    {
        var batch = Regex.Match(statement, @"with batch as materialized \(\s*select (?<columns>.*?), ordinal\s+from", RegexOptions.Singleline);
        var insert = Regex.Match(statement, @"insert into events \((?<into>[^)]*), stored_at\)\s*select (?<from>.*?), stored_at\s+from batch", RegexOptions.Singleline);
        Assert.That(new[] { batch.Success, insert.Success }, Is.All.True, statement);
        Assert.That(Names(batch.Groups["columns"].Value), Is.EqualTo(WrittenNames), "the batch's columns");
        Assert.That(Names(insert.Groups["into"].Value), Is.EqualTo(WrittenNames), "the insert's columns");
        Assert.That(Names(insert.Groups["from"].Value), Is.EqualTo(WrittenNames), "the insert's values");
    }

    [Test]
    public void Unsendable_text_is_looked_for_in_every_text_column_and_named_as_the_message_names_it()
    {
        foreach (var column in EventsTable.Written.Where(c => c.Type == "text"))
        {
            var e = DistinctEvent();
            typeof(AnalyticsEvent).GetProperty(column.Property)!.SetValue(e, "nul\0here");
            var field = JsonNamingPolicy.CamelCase.ConvertName(column.Property);
            Assert.That(UnsendableText.Find(e), Does.StartWith($"{field} contains a NUL character"), column.Name);
        }
    }

    [Test]
    public void The_read_side_selects_each_read_column_as_its_property()
    {
        Assert.That(List(EventsTable.ReadSelectList), Is.EqualTo(EventsTable.Read.Select(c => (c.IsJson ? $"{c.Sql}::text" : c.Sql) + " as " + c.Property)));
        Assert.That(EventsTable.Read.Select(c => c.Name), Does.Not.Contain("source_id").And.Not.Contain("xact_id"),
            "the live tail selects them before the row and splits the row at its first column, id");
        Assert.That(EventsTable.Read[0].Name, Is.EqualTo("id"));
    }

    /// <summary>The C# type a read column is read into: jsonb as its text, a nullable column nullable.</summary>
    static (Type Type, bool Nullable) Expected(EventColumn c) => (c.Type switch
    {
        "bigint" => typeof(long),
        "timestamptz" => c.NotNull ? typeof(DateTime) : typeof(DateTime?),
        "boolean" => typeof(bool),
        _ => typeof(string),
    }, !c.NotNull);

    [Test]
    public void EventRow_has_a_property_of_the_columns_type_for_each_read_column_in_order()
    {
        var properties = Declared(typeof(EventRow)).ToList();
        Assert.That(properties.Select(p => p.Name), Is.EqualTo(ReadProperties));
        var nullability = new NullabilityInfoContext();
        foreach (var (column, property) in EventsTable.Read.Zip(properties))
        {
            var (type, nullable) = Expected(column);
            Assert.That(property.PropertyType, Is.EqualTo(type), column.Name);
            Assert.That(nullability.Create(property).ReadState == NullabilityState.Nullable || Nullable.GetUnderlyingType(property.PropertyType) is not null,
                Is.EqualTo(nullable), $"{column.Name} is nullable");
        }
    }

    /// <summary>A row whose every property holds a value no other property holds.</summary>
    static EventRow DistinctRow()
    {
        var row = Activator.CreateInstance<EventRow>();
        var i = 0;
        foreach (var property in Declared(typeof(EventRow)))
        {
            i++;
            var column = EventsTable.Read.Single(c => c.Property == property.Name);
            object value = column.Type switch
            {
                "bigint" => 1000L + i,
                "timestamptz" => new DateTime(2025, 1, i, 12, 0, 0, DateTimeKind.Utc),
                "boolean" => true,
                "jsonb" => $"[{i}]",
                _ => $"{property.Name} text",
            };
            property.SetValue(row, value);
        }
        return row;
    }

    [Test]
    public void EventView_shows_each_read_column_under_its_property_in_order()
    {
        var row = DistinctRow();
        var view = row.ToView();

        Assert.That(typeof(EventView).GetConstructors().Single().GetParameters().Select(p => p.Name), Is.EqualTo(ReadProperties));
        foreach (var column in EventsTable.Read)
        {
            var shown = typeof(EventView).GetProperty(column.Property)!.GetValue(view);
            var stored = typeof(EventRow).GetProperty(column.Property)!.GetValue(row);
            Assert.That(shown is JsonElement json ? json.GetRawText() : shown, Is.EqualTo(stored), column.Name);
        }
    }

    [Test]
    public void The_csv_header_names_the_read_columns_and_each_row_follows_it()
    {
        var row = DistinctRow();
        var line = new StringBuilder();
        EventCsv.AppendRow(line, row);

        Assert.That(EventCsv.Header, Is.EqualTo(string.Join(',', EventsTable.Read.Select(c => c.Name)) + "\r\n"));
        var fields = line.ToString().Split(',');
        Assert.That(fields, Has.Length.EqualTo(EventsTable.Read.Count));
        foreach (var (column, field) in EventsTable.Read.Zip(fields))
        {
            var expected = typeof(EventRow).GetProperty(column.Property)!.GetValue(row) switch
            {
                DateTime time => time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                bool flag => flag ? "true" : "false",
                long id => id.ToString(CultureInfo.InvariantCulture),
                var text => (string?)text,
            };
            Assert.That(field, Is.EqualTo(expected), column.Name);
        }
    }
}
