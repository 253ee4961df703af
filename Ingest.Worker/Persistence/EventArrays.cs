using Ingest.Contracts;
using Ingest.Database.Events;
using Npgsql;

namespace Ingest.Worker.Persistence;

/// <summary>
/// A batch's events as one array parameter per column the worker writes, named for the column, in the order of
/// <see cref="EventsTable.Written"/>: what the unnest insert (<see cref="UnnestInsert"/>) and
/// <c>insert_events_one_by_one</c> (<see cref="OneByOneInsert"/>) take. The JSON columns go as their raw
/// text (<see cref="EventColumn.ArrayType"/>).
/// </summary>
static class EventArrays
{
    /// <summary><c>@source_id, …, @properties::jsonb[], …</c>: the arrays for <c>unnest</c>, the JSON ones cast to jsonb for their columns.</summary>
    internal static string UnnestArguments { get; } =
        string.Join(", ", EventsTable.Written.Select(c => c.IsJson ? $"@{c.Name}::jsonb[]" : $"@{c.Name}"));

    /// <summary><c>@source_id, …, @properties, …</c>: the arrays as sent, for <c>insert_events_one_by_one</c> (which takes the JSON as text[]).</summary>
    internal static string FunctionArguments { get; } = string.Join(", ", EventsTable.Written.Select(c => $"@{c.Name}"));

    public static void Add(NpgsqlParameterCollection parameters, IReadOnlyList<AnalyticsEvent> events)
    {
        foreach (var column in EventsTable.Written)
            parameters.Add(column.ArrayOf(events));
    }
}
