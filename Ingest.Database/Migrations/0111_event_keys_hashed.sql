-- Issue 25 (cost against the floor): event_keys' uniqueness kept by a hash index instead of the B-tree of its primary
-- key. Every claim put a random message id into that B-tree; past a few million keys its pages no longer stay in the
-- cache, and after each checkpoint the first change to each page writes the whole page to the WAL, so a source's
-- cost per event grew with the keys stored. A hash index holds a 4-byte hash and the row's address per key, about a
-- third of the B-tree's size. Measured with PostgreSQL alone (docs/performance.md): claiming 2,000 random keys a
-- statement among 10 million cost 46-57 µs a key with the B-tree and 29-30 with the hash index.
--
-- A hash index cannot be unique, but an exclusion constraint over it is as exact: an insert whose key equals a stored
-- or in-flight one (the hash's matches rechecked against the key itself) conflicts, waits for a transaction in flight,
-- and is skipped by ON CONFLICT DO NOTHING, as with the primary key. The key is one text, event_key(source_id,
-- message_id): the source id's length first, so that no two pairs make the same text ('ab' + 'c' against 'a' + 'bc').
-- ON CONFLICT names no columns (a conflict target must be a unique index): event_keys has no other constraint.
-- GET /v1/events/{messageId} finds a key by the same expression (EventsApi.SelectEventByMessageId).
create function event_key(source_id text, message_id text) returns text
language sql immutable parallel safe strict
return length(source_id)::text || ':' || source_id || message_id;

alter table event_keys drop constraint event_keys_pkey;
alter table event_keys add constraint event_keys_unique exclude using hash (event_key(source_id, message_id) with =);

-- As in 0108, with the conflict of the exclusion constraint.
create or replace function insert_events_one_by_one(
    in_source_ids text[], in_message_ids text[], in_types text[], in_events text[], in_names text[], in_user_ids text[],
    in_anonymous_ids text[], in_group_ids text[], in_previous_ids text[], in_timestamps timestamptz[],
    in_original_timestamps timestamptz[], in_sent_ats timestamptz[], in_received_ats timestamptz[], in_clamped boolean[],
    in_properties text[], in_traits text[], in_contexts text[], in_integrations text[])
returns table (ordinal int, stored boolean, reason text)
language plpgsql as $$
declare
    claimed_at timestamptz;
    message text;
    state text;
    detail text;
begin
    for i in 1 .. coalesce(cardinality(in_source_ids), 0) loop
        ordinal := i;
        reason := null;
        stored := false;
        begin
            insert into event_keys as k (source_id, message_id, stored_at)
            values (in_source_ids[i], in_message_ids[i], clock_timestamp())
            on conflict do nothing
            returning k.stored_at into claimed_at;
            if found and not (exists (select 1 from privacy_filters f where f.source_id = in_source_ids[i])
                              and is_filtered(in_source_ids[i], in_user_ids[i], in_anonymous_ids[i], in_received_ats[i])) then
                insert into events (source_id, message_id, type, event, name, user_id, anonymous_id, group_id, previous_id,
                                    "timestamp", original_timestamp, sent_at, received_at, timestamp_clamped,
                                    properties, traits, context, integrations, stored_at)
                values (in_source_ids[i], in_message_ids[i], in_types[i], in_events[i], in_names[i], in_user_ids[i],
                        in_anonymous_ids[i], in_group_ids[i], in_previous_ids[i], in_timestamps[i],
                        in_original_timestamps[i], in_sent_ats[i], in_received_ats[i], in_clamped[i],
                        in_properties[i]::jsonb, in_traits[i]::jsonb, in_contexts[i]::jsonb, in_integrations[i]::jsonb,
                        claimed_at);
                stored := true;
            end if;
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
