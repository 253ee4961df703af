using Dapper;
using Ingest.Database.Events;

namespace Ingest.Tests.Integration.Database;

/// <summary>
/// EventsTable, the one definition of the events row, against what the migrations (history, never edited) built in
/// this run's database: the table's columns, the arguments of insert_events_one_by_one, and how its indexes compare text.
/// </summary>
public sealed class When_the_events_table_is_migrated
{
    /// <summary>The name PostgreSQL gives a type as a statement writes it (timestamptz → timestamp with time zone).</summary>
    static async Task<string> CanonicalAsync(string type)
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<string>("select format_type(@Type::text::regtype, null)", new { Type = type }) ?? "";
    }

    [Test]
    public async Task Its_columns_are_the_definitions_in_order_with_their_types_and_nullability()
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        var columns = (await conn.QueryAsync<(string Name, string Type, string Nullable)>("""
            select column_name, format_type(a.atttypid, a.atttypmod), is_nullable
            from information_schema.columns c
            join pg_attribute a on a.attrelid = 'events'::regclass and a.attname = c.column_name
            where c.table_schema = current_schema() and c.table_name = 'events'
            order by c.ordinal_position
            """)).Select(c => $"{c.Name} {c.Type} {(c.Nullable == "YES" ? "null" : "not null")}").ToList();

        var defined = new List<string>();
        foreach (var column in EventsTable.Columns)
            defined.Add($"{column.Name} {await CanonicalAsync(column.Type)} {(column.NotNull ? "not null" : "null")}");
        Assert.That(columns, Is.EqualTo(defined));
    }

    [Test]
    public async Task Insert_events_one_by_one_takes_an_array_of_each_written_column_in_order()
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        var signatures = (await conn.QueryAsync<string>(
            "select pg_get_function_identity_arguments(oid) from pg_proc where proname = 'insert_events_one_by_one' and pronamespace = current_schema()::regnamespace")).ToList();
        Assert.That(signatures, Has.Count.EqualTo(1));
        var arguments = signatures[0].Split(", ").Select(a => a.Split(' ', 2)).Select(a => (Name: a[0], Type: a[1])).ToList();

        Assert.That(arguments, Has.Count.EqualTo(EventsTable.Written.Count), signatures[0]);
        foreach (var (column, argument) in EventsTable.Written.Zip(arguments))
        {
            Assert.That(argument.Type, Is.EqualTo(await CanonicalAsync(column.ArrayType)), column.Name);
            // Named for the column: in_ and its name in the plural (in_source_ids, in_contexts) or its last word (in_clamped).
            var name = argument.Name["in_".Length..];
            Assert.That(name.StartsWith(column.Name, StringComparison.Ordinal) || column.Name.EndsWith(name, StringComparison.Ordinal), Is.True,
                $"{argument.Name} is the array of {column.Name}");
        }
    }

    [Test]
    public async Task Every_index_of_the_events_and_their_keys_compares_text_byte_by_byte_whatever_the_database_s_locale()
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        // Each text key of each index on events (its partitions' included), event_keys and quarantined_events, with
        // its collation: "C" when the column or the index says so, "default" when it follows the database's locale.
        var keys = (await conn.QueryAsync<(string Index, string Collation)>("""
            select i.indexrelid::regclass::text, c.collname::text
            from pg_index i
            cross join lateral unnest(i.indcollation::oid[]) as k(collation_oid)
            join pg_collation c on c.oid = k.collation_oid
            where i.indrelid in (select 'events'::regclass union all select inhrelid from pg_inherits where inhparent = 'events'::regclass
                                 union all select 'event_keys'::regclass union all select 'quarantined_events'::regclass)
            """)).ToList();

        Assert.That(keys.Select(k => k.Index), Does.Contain("event_keys_pkey").And.Contain("events_source_user_key_time").And.Contain("quarantined_events_message"));
        Assert.That(keys.Where(k => k.Collation != "C").Select(k => $"{k.Index} ({k.Collation})"), Is.Empty);
    }
}
