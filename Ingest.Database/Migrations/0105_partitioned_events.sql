-- Issue 15: events partitioned by month of stored_at, so that retention drops whole partitions instead of deleting rows.
-- Design and costs: docs/partitioning.md.
--
-- The partition key is stored_at, the database's clock when the row was inserted: every insert lands in the current
-- partition, whatever the event's own times say (a backlog drained late, a replay from the quarantine or the dead
-- letters, a client's old message sent again), so the worker only has to keep the current and next partitions in
-- place (create_event_partitions), and no insert can aim at a range that retention dropped.
--
-- A unique key of a partitioned table must contain the partition key, so (source_id, message_id) can no longer be
-- unique on events itself. Deduplication moves to event_keys, one unpartitioned row per stored event: a BEFORE INSERT
-- trigger claims the key (INSERT ... ON CONFLICT DO NOTHING on its primary key) and skips the event when another
-- transaction holds it, exactly as events' own primary key did; a concurrent insert of the same key waits for the
-- other transaction's outcome. A key carries its event's stored_at and is deleted only after its event's partition
-- was dropped (the worker's retention), so deduplication is exact for as long as an event is stored.

-- Today's table, its indexes and triggers out of the way (the names are taken again below); its rows are copied.
alter table events rename to events_unpartitioned;
alter table events_unpartitioned drop constraint events_pkey;
drop index events_source_time, events_source_event_time, events_source_anonymous_time, events_source_user_key_time, events_xact;
drop trigger events_notify_inserted on events_unpartitioned;

create table events (
    id bigint generated always as identity,
    source_id text not null,
    message_id text not null,
    type text not null,
    event text,
    name text,
    user_id text,
    anonymous_id text,
    group_id text,
    previous_id text,
    "timestamp" timestamptz not null,
    original_timestamp timestamptz,
    sent_at timestamptz,
    received_at timestamptz not null,
    stored_at timestamptz not null default clock_timestamp(),
    timestamp_clamped boolean not null default false,
    properties jsonb,
    traits jsonb,
    context jsonb,
    integrations jsonb,
    xact_id xid8 default pg_current_xact_id()
) partition by range (stored_at);

-- The partitions of events and their bounds, from the catalog (the bounds as PostgreSQL prints them, with their offset).
create view event_partitions as
select c.relname::text as name,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz as from_at,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz as to_at
from pg_inherits i
join pg_class c on c.oid = i.inhrelid
where i.inhparent = 'events'::regclass;

-- Makes sure partitions of one period ('day', 'week' or 'month', in UTC) cover from the start of the current period
-- through the next `ahead` periods, and back to `since` when given; returns the partitions it created. New partitions
-- continue from the last one's end (and, backwards, stop at the first one's start), so a change of period leaves
-- neither gap nor overlap. Several workers may call it at once: an advisory lock makes them take turns, and the later
-- ones find the partitions made. Each partition is created on its own and then attached, which locks events in SHARE
-- UPDATE EXCLUSIVE mode: inserts and reads go on meanwhile. A lock not granted within 5 s fails the call (the caller
-- tries again later) instead of queueing everything behind it.
create function create_event_partitions(period text, ahead int, since timestamptz default null) returns setof text
language plpgsql set "TimeZone" = 'UTC' set lock_timeout = 0 as $$
declare
    step interval;
    first_from timestamptz;
    last_to timestamptz;
    next_from timestamptz;
    next_to timestamptz;
    target timestamptz;
begin
    if period is null or period not in ('day', 'week', 'month') then
        raise exception 'partition period must be day, week or month, not %', period using errcode = 'invalid_parameter_value';
    end if;
    step := ('1 ' || period)::interval;
    target := date_trunc(period, now()) + (ahead + 1) * step;
    perform pg_advisory_xact_lock(111559182283891); -- "events" in ASCII, as Migrator's lock is "ingest"
    perform set_config('lock_timeout', '5s', true);
    select min(p.from_at), max(p.to_at) into first_from, last_to from event_partitions p;
    if first_from is null then
        first_from := date_trunc(period, least(since, now()));
        last_to := first_from;
    end if;
    -- Backwards, down to the period holding `since`.
    next_from := coalesce(date_trunc(period, since), first_from);
    while next_from < first_from loop
        next_to := least(date_trunc(period, next_from + step), first_from);
        return next create_event_partition(next_from, next_to);
        next_from := next_to;
    end loop;
    -- Forwards, through the period `ahead` after the current one.
    next_from := last_to;
    while next_from < target loop
        next_to := date_trunc(period, next_from + step);
        return next create_event_partition(next_from, next_to);
        next_from := next_to;
    end loop;
end
$$;

-- One partition, named after the UTC date it starts (events_p20261101), created and then attached.
create function create_event_partition(from_at timestamptz, to_at timestamptz) returns text
language plpgsql set "TimeZone" = 'UTC' as $$
declare
    partition_name text := 'events_p' || to_char(from_at, 'YYYYMMDD');
begin
    execute format('create table %I (like events including defaults including constraints including storage including compression)', partition_name);
    execute format('alter table events attach partition %I for values from (%L) to (%L)', partition_name, from_at, to_at);
    return partition_name;
end
$$;

-- Retention: drops every partition whose rows were all stored before `older_than`; returns their names. Dropping a
-- partition locks events in ACCESS EXCLUSIVE mode for a moment; a lock not granted within 5 s (a long export reading
-- events) fails the call, to be tried again later, rather than stall inserts behind it. The dropped events' keys are
-- deleted afterwards, in batches, by delete_dropped_event_keys: not here, where they would hold that lock.
create function drop_event_partitions(older_than timestamptz) returns setof text
language plpgsql set lock_timeout = 0 as $$
declare
    partition_name text;
begin
    perform pg_advisory_xact_lock(111559182283891); -- as create_event_partitions
    perform set_config('lock_timeout', '5s', true);
    for partition_name in select p.name from event_partitions p where p.to_at <= older_than order by p.from_at loop
        execute format('drop table %I', partition_name);
        return next partition_name;
    end loop;
end
$$;

-- The partitions of the rows already stored, monthly from the first row's month, and the next two months.
select create_event_partitions('month', 2, (select min(stored_at) from events_unpartitioned));

-- The rows, with their ids and transaction ids (the live tail's positions), and the identity continuing after them.
insert into events (id, source_id, message_id, type, event, name, user_id, anonymous_id, group_id, previous_id, "timestamp",
                    original_timestamp, sent_at, received_at, stored_at, timestamp_clamped, properties, traits, context,
                    integrations, xact_id)
overriding system value
select id, source_id, message_id, type, event, name, user_id, anonymous_id, group_id, previous_id, "timestamp",
       original_timestamp, sent_at, received_at, stored_at, timestamp_clamped, properties, traits, context, integrations,
       xact_id
from events_unpartitioned;
select setval(pg_get_serial_sequence('events', 'id'), coalesce(max(id), 1), max(id) is not null) from events_unpartitioned;

-- The deduplication key of every stored event. BRIN on stored_at: retention finds the keys of dropped partitions by it,
-- and it costs an insert next to nothing (keys arrive in stored_at order; autovacuum summarizes each filled range).
create table event_keys (
    source_id text not null,
    message_id text not null,
    stored_at timestamptz not null,
    primary key (source_id, message_id)
);
create index event_keys_stored on event_keys using brin (stored_at) with (autosummarize = on);
insert into event_keys (source_id, message_id, stored_at) select source_id, message_id, stored_at from events;

-- The keys whose events were in partitions that are gone: older than the oldest partition left. At most `batch_size`
-- a call, so that no transaction holds many row locks or the vacuum horizon for long; returns how many it deleted.
create function delete_dropped_event_keys(batch_size int) returns int
language sql as $$
    with gone as (
        delete from event_keys
        where ctid = any(array(
            select ctid from event_keys
            where stored_at < (select min(from_at) from event_partitions)
            limit batch_size))
        returning 1
    )
    select count(*)::int from gone
$$;

-- The indexes of 0104, built once after the copy, on each partition present and future. The primary key serves
-- /v1/events/{messageId} (one probe per partition); uniqueness is event_keys' business.
alter table events add constraint events_pkey primary key (source_id, message_id, stored_at);
create index events_source_time on events (source_id, "timestamp" desc, id desc);
create index events_source_event_time on events (source_id, event, "timestamp" desc, id desc);
create index events_source_anonymous_time on events (source_id, anonymous_id, "timestamp" desc, id desc) where anonymous_id is not null;
create index events_source_user_key_time on events (source_id, (coalesce(user_id, anonymous_id)), "timestamp" desc, id desc);
create index events_xact on events (xact_id, id);

-- An event is inserted only by the transaction that claims its key: the others' rows are skipped, as ON CONFLICT DO
-- NOTHING skipped them, so an insert's row count and RETURNING still say what was stored.
create function claim_event_key() returns trigger language plpgsql as $$
begin
    insert into event_keys (source_id, message_id, stored_at) values (new.source_id, new.message_id, new.stored_at)
    on conflict (source_id, message_id) do nothing;
    if found then
        return new;
    end if;
    return null;
end
$$;

create trigger events_claim_key before insert on events for each row execute function claim_event_key();

create trigger events_notify_inserted
    after insert on events
    referencing new table as inserted_rows
    for each statement execute function notify_events_inserted();

-- Whoever could use the old table may use the new one, and the keys its inserts claim.
do $$
declare
    g record;
begin
    for g in select a.grantee, a.privilege_type
             from pg_class c, aclexplode(c.relacl) a
             where c.oid = 'events_unpartitioned'::regclass and a.grantee <> c.relowner
    loop
        execute format('grant %s on events, event_keys to %s', g.privilege_type,
                       case when g.grantee = 0 then 'public' else g.grantee::regrole::text end);
    end loop;
end
$$;

drop table events_unpartitioned;

-- As in 0103, less ON CONFLICT (events_claim_key skips a stored event). A missing partition is not the event's fault:
-- it fails the statement, and the batch is retried, instead of quarantining every event of the batch.
create or replace function insert_events_one_by_one(
    in_source_ids text[], in_message_ids text[], in_types text[], in_events text[], in_names text[], in_user_ids text[],
    in_anonymous_ids text[], in_group_ids text[], in_previous_ids text[], in_timestamps timestamptz[],
    in_original_timestamps timestamptz[], in_sent_ats timestamptz[], in_received_ats timestamptz[], in_clamped boolean[],
    in_properties text[], in_traits text[], in_contexts text[], in_integrations text[])
returns table (ordinal int, stored boolean, reason text)
language plpgsql as $$
declare
    rows_inserted int;
    message text;
    state text;
    detail text;
begin
    for i in 1 .. coalesce(cardinality(in_source_ids), 0) loop
        ordinal := i;
        reason := null;
        begin
            insert into events (source_id, message_id, type, event, name, user_id, anonymous_id, group_id, previous_id,
                                "timestamp", original_timestamp, sent_at, received_at, timestamp_clamped,
                                properties, traits, context, integrations)
            values (in_source_ids[i], in_message_ids[i], in_types[i], in_events[i], in_names[i], in_user_ids[i],
                    in_anonymous_ids[i], in_group_ids[i], in_previous_ids[i], in_timestamps[i],
                    in_original_timestamps[i], in_sent_ats[i], in_received_ats[i], in_clamped[i],
                    in_properties[i]::jsonb, in_traits[i]::jsonb, in_contexts[i]::jsonb, in_integrations[i]::jsonb);
            get diagnostics rows_inserted = row_count;
            stored := rows_inserted = 1;
        exception when data_exception or integrity_constraint_violation or program_limit_exceeded then
            get stacked diagnostics message = message_text, state = returned_sqlstate, detail = pg_exception_detail;
            if state = '23514' and message like 'no partition of relation%' then
                raise;
            end if;
            stored := false;
            -- As DatabaseErrors.Describe words PostgreSQL's refusals.
            reason := format('%s (SQLSTATE %s)%s', message, state, case when detail <> '' then ': ' || detail else '' end);
        end;
        return next;
    end loop;
end
$$;
