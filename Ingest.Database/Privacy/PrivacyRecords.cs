using Dapper;
using Npgsql;

namespace Ingest.Database.Privacy;

/// <summary>
/// Privacy requests as rows: what the API's admin endpoints and the worker's command line record and read. The
/// requests are carried out by the worker's PrivacyRunner; this class only records them and reads the stores.
/// </summary>
public static class PrivacyRecords
{
    public const int MaxSubjects = 5000;

    const string InsertRequest = """
        insert into privacy_requests (id, source_id, key_prefix, type, subjects) values (@Id, @SourceId, @KeyPrefix, @Type, @Subjects)
        """;

    /// <summary>The ids themselves are kept only for a deletion, which must find them in the stores; a hash is enough otherwise.</summary>
    const string InsertSubjects = """
        insert into privacy_subjects (request_id, ordinal, kind, subject_hash, subject)
        select @Id, x.ordinal, x.kind, privacy_subject_hash(x.kind, x.subject), case when @KeepIds then x.subject end
        from unnest(@Kinds, @Ids) with ordinality as x(kind, subject, ordinal)
        """;

    const string RequestColumns = """
        id as Id, source_id as SourceId, key_prefix as KeyPrefix, type as Type, status as Status, reason as Reason, subjects as Subjects,
        requested_at as RequestedAt, started_at as StartedAt, finished_at as FinishedAt, removed_events as RemovedEvents,
        removed_quarantined as RemovedQuarantined, removed_dead_letters as RemovedDeadLetters
        """;

    const string SelectRequest = $"select {RequestColumns} from privacy_requests where id = @Id and source_id = @SourceId";

    const string SelectRecentRequests = $"select {RequestColumns} from privacy_requests where source_id = @SourceId order by requested_at desc limit @Limit";

    /// <summary>
    /// What the stores of a source hold of one subject now. The parameters are sent with the statement, so PostgreSQL
    /// plans it for the kind given, and each side of the or uses its index (events_source_user_key_time or
    /// events_source_anonymous_time; the quarantine is read by its source, quarantined_events_message).
    /// </summary>
    const string CountSubjectRows = """
        select
            (select count(*) from events where source_id = @SourceId
                and ((@Kind = 'userId' and coalesce(user_id, anonymous_id) = @Subject and user_id = @Subject)
                     or (@Kind = 'anonymousId' and anonymous_id = @Subject))) as Events,
            (select count(*) from quarantined_events where source_id = @SourceId
                and ((@Kind = 'userId' and user_id = @Subject) or (@Kind = 'anonymousId' and anonymous_id = @Subject))) as Quarantined,
            exists (select 1 from privacy_filters where source_id = @SourceId and subject_hash = privacy_subject_hash(@Kind, @Subject) and suppressed_by is not null) as Suppressed
        """;

    /// <summary>The subjects a source suppresses now (an erasure alone is not one): privacy_filters_suppressed answers it.</summary>
    const string CountSuppressedSubjects = "select count(*) from privacy_filters where source_id = @SourceId and suppressed_by is not null";

    const string SelectSuppressions = """
        select (select key from privacy_hash_key) as Key, array_agg(source_id) as SourceIds, array_agg(subject_hash) as Hashes
        from privacy_filters where suppressed_by is not null
        """;

    /// <summary>Records a request, pending for the worker; returns its id.</summary>
    public static async Task<Guid> CreateAsync(NpgsqlDataSource db, string sourceId, string keyPrefix, string type, IReadOnlyList<PrivacySubject> subjects, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(InsertRequest, new { Id = id, SourceId = sourceId, KeyPrefix = keyPrefix, Type = type, Subjects = subjects.Count }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(InsertSubjects, new
        {
            Id = id,
            KeepIds = PrivacyRequestType.Deletes(type),
            Kinds = subjects.Select(s => s.Kind).ToArray(),
            Ids = subjects.Select(s => s.Id).ToArray(),
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return id;
    }

    /// <summary>The request, if it is the source's; another source's is as unknown as a made-up id.</summary>
    public static async Task<PrivacyRequestRecord?> GetAsync(NpgsqlDataSource db, string sourceId, Guid id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<PrivacyRequestRecord>(new CommandDefinition(SelectRequest, new { Id = id, SourceId = sourceId }, cancellationToken: ct));
    }

    public static async Task<IReadOnlyList<PrivacyRequestRecord>> RecentAsync(NpgsqlDataSource db, string sourceId, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<PrivacyRequestRecord>(new CommandDefinition(SelectRecentRequests, new { SourceId = sourceId, Limit = limit }, cancellationToken: ct))).AsList();
    }

    public sealed record SubjectRows(long Events, long Quarantined, bool Suppressed);

    public static async Task<SubjectRows> CountAsync(NpgsqlDataSource db, string sourceId, PrivacySubject subject, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<SubjectRows>(new CommandDefinition(CountSubjectRows, new { SourceId = sourceId, subject.Kind, Subject = subject.Id }, cancellationToken: ct));
    }

    /// <summary>How many subjects the source suppresses: a count of hashes, which names no one.</summary>
    public static async Task<long> CountSuppressedAsync(NpgsqlDataSource db, string sourceId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountSuppressedSubjects, new { SourceId = sourceId }, cancellationToken: ct));
    }

    /// <summary>The hash key and every suppressed subject's hash by source: what the API holds in memory.</summary>
    public sealed record Suppressions(byte[] Key, string[] SourceIds, byte[][] Hashes);

    public static async Task<Suppressions> LoadSuppressionsAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleAsync<(byte[] Key, string[]? SourceIds, byte[][]? Hashes)>(new CommandDefinition(SelectSuppressions, cancellationToken: ct));
        return new Suppressions(row.Key, row.SourceIds ?? [], row.Hashes ?? []);
    }
}
