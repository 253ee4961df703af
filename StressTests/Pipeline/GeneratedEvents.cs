using System.Data;
using Dapper;
using Npgsql;

namespace StressTests.Pipeline;

/// <summary>
/// A source's events generated inside PostgreSQL (generate_series), the fastest way in: for the benchmarks that need a
/// large table before they measure (privacy's deletion, the cost per event on a full table).
/// </summary>
public static class GeneratedEvents
{
    /// <summary>Rows a transaction, so that no one transaction holds gigabytes of WAL and locks.</summary>
    const long Chunk = 1_000_000;

    /// <summary>
    /// Events @From to @To of the source, over the last 30 days, in the partitions of those months, each message id a
    /// UUID made of the md5 of the source and the row's number (random, as clients' are, and the same on every run);
    /// every Stride-th row is one of the subjects' (erase-1 … erase-@Subjects, each as often), the others of 65,536
    /// other users. The keys are claimed in one statement with the rows, as an import must (migration 0108), and the
    /// row triggers are off (session_replication_role, in a transaction of its own): nobody tails the generated rows.
    /// </summary>
    const string Generate = """
        select create_event_partitions('month', 2, now() - interval '30 days');
        set local session_replication_role = replica;
        with generated as materialized (
            select @Source as source_id,
                   md5(@Source || '-' || i)::uuid::text as message_id,
                   'Event ' || (i * 7 % 50) as event,
                   case when i % @Stride = 0 then 'erase-' || (1 + (i / @Stride) % @Subjects) else 'u' || (hashint4(i::int) & 65535) end as user_id,
                   'a' || (hashint4(i::int + 1) & 131071) as anonymous_id,
                   now() - interval '30 days' * ((hashint4(i::int * 31) & 1048575) / 1048576.0) as ts,
                   i
            from generate_series(@From::int8, @To::int8) as i),
        keys as (
            insert into event_keys (source_id, message_id, stored_at) select source_id, message_id, ts from generated)
        insert into events (source_id, message_id, type, event, user_id, anonymous_id, "timestamp", received_at, stored_at, properties, context)
        select source_id, message_id, 'track', event, user_id, anonymous_id, ts, ts, ts,
               jsonb_build_object('plan', case when i % 2 = 0 then 'pro' else 'free' end, 'n', i),
               '{"library":{"name":"analytics.js","version":"4.1.0"}}'::jsonb
        from generated
        """;

    /// <summary>What <see cref="FillAsync"/> does after generating, for the reports that describe its table.</summary>
    public const string ThenPrepared = "vacuumed, analysed and checkpointed";

    /// <summary>
    /// Generates <paramref name="count"/> events of <paramref name="source"/>, a million a transaction, then vacuums and
    /// analyses events and takes a checkpoint, so that the pages the fill and the vacuum dirtied are written out before
    /// the caller measures, not in its first seconds. With <paramref name="subjects"/>, every <c>Stride</c>-th event is
    /// one of <c>Count</c> subjects' (erase-1 …); without, none is.
    /// </summary>
    public static async Task FillAsync(NpgsqlDataSource db, string source, long count, (long Stride, int Count)? subjects, CancellationToken ct)
    {
        var (stride, subjectCount) = subjects ?? (count + 1, 1);
        await using var conn = await db.OpenConnectionAsync(ct);
        for (var from = 1L; from <= count; from += Chunk)
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition(Generate,
                new { Source = source, From = from, To = Math.Min(count, from + Chunk - 1), Stride = stride, Subjects = subjectCount },
                tx, commandTimeout: 1800, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        await conn.ExecuteAsync(new CommandDefinition("vacuum analyze events, event_keys", commandTimeout: 3600, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition("checkpoint", commandTimeout: 3600, commandType: CommandType.Text, cancellationToken: ct));
    }
}
