-- The worker's way to isolate the events PostgreSQL refuses in a batch (issue 11): each event inserted in a
-- subtransaction of its own (an exception block), all in one statement, so a batch with any number of refused events
-- costs one round trip, where bisecting under savepoints cost about two failing statements per refused event.
-- Only the data's faults are caught (classes 22, 23, 54, as Ingest.Worker's DatabaseErrors.IsRefusedData); anything
-- else fails the statement and the batch is retried. One row per event, by its position in the arrays (from 1):
-- stored, or not stored with PostgreSQL's reason (refused) or without one (already stored: a duplicate).
create function insert_events_one_by_one(
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
                    in_properties[i]::jsonb, in_traits[i]::jsonb, in_contexts[i]::jsonb, in_integrations[i]::jsonb)
            on conflict (source_id, message_id) do nothing;
            get diagnostics rows_inserted = row_count;
            stored := rows_inserted = 1;
        exception when data_exception or integrity_constraint_violation or program_limit_exceeded then
            get stacked diagnostics message = message_text, state = returned_sqlstate, detail = pg_exception_detail;
            stored := false;
            -- As DatabaseErrors.Describe words PostgreSQL's refusals.
            reason := format('%s (SQLSTATE %s)%s', message, state, case when detail <> '' then ': ' || detail else '' end);
        end;
        return next;
    end loop;
end
$$;
