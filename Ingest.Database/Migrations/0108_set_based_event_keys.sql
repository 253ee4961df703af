-- Issue 25 (cost against the floor): deduplication keys claimed by the worker's statement, set-based, instead of by a
-- PL/pgSQL row trigger on events. The trigger (0105, with 0106's privacy filter) cost a function call and two SPI
-- statements per row: PostgreSQL spent about 63 µs per stored event against 47 µs set-based and 33 µs for an
-- unpartitioned table (docs/partitioning.md). Same keys, same rules:
-- - a key already claimed (committed, or by a transaction that then commits) skips its event; a concurrent claim waits
--   for the other transaction, as with any unique index; within one batch the first event of a key is stored;
-- - the key is claimed before the filter is read, so a resent erased event stays refused like any duplicate;
-- - a key carries its event's stored_at (the same value), so retention deletes it only once its event is gone.
-- The worker's two statements share one text (Ingest.Worker/Persistence/NewEvents.cs); the slow path, each event in
-- a subtransaction of its own, is insert_events_one_by_one below. Nothing else stores events in production. An insert
-- into events by hand (a test's fixture, an import) claims no key: it is not deduplicated and a resend of its message
-- is stored again, so an import inserts the keys too (docs/partitioning.md).
--
-- The privacy filter is read with the statement's snapshot, where the trigger read it row by row with its own. That
-- is as exact because the worker's transaction has its id before the statement starts (NewEvents): an erasure that
-- commits after the statement's snapshot finds the transaction running, and PrivacyRunner waits for it to end before
-- deleting; an erasure committed before it is seen by every row.
drop trigger events_claim_key on events;
drop function claim_event_key();

-- As in 0105, the key claimed and the filter applied here instead of by the trigger: inside each event's
-- subtransaction, so a refused event leaves no key behind; is_filtered only for a source that has filters.
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
            on conflict (source_id, message_id) do nothing
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
