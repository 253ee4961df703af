-- The read side (issue 7): indexes for the queries of Ingest.Api/Queries, and the notification that feeds the live tail.
-- Every events index leads with source_id: a read key only ever sees its own source.

-- GET /v1/events newest first, with or without a time range; keyset pagination on ("timestamp", id).
create index events_source_time on events (source_id, "timestamp" desc, id desc);
-- ... filtered by event name (also /v1/stats/events?event=).
create index events_source_event_time on events (source_id, event, "timestamp" desc, id desc);
-- ... filtered by userId or anonymousId (partial: most events carry only one of the two).
create index events_source_user_time on events (source_id, user_id, "timestamp" desc, id desc) where user_id is not null;
create index events_source_anonymous_time on events (source_id, anonymous_id, "timestamp" desc, id desc) where anonymous_id is not null;
-- GET /v1/stats/users: first seen per user = coalesce(user_id, anonymous_id), read from the index alone.
create index events_source_user_key_time on events (source_id, (coalesce(user_id, anonymous_id)), "timestamp");
-- GET /v1/events/stream: rows stored in the last seconds (late commits of lower ids) and the reconnect window.
create index events_source_stored on events (source_id, stored_at);

create index quarantined_events_source_time on quarantined_events (source_id, quarantined_at desc, id desc);
create index ingest_transactions_status_started on ingest_transactions (status, started_at desc, id desc);

-- One notification per insert statement, delivered when its transaction commits: the highest id it inserted.
-- A statement that inserted nothing (all duplicates) stays quiet.
create function notify_events_inserted() returns trigger language plpgsql as $$
declare
    max_id bigint;
begin
    select max(id) into max_id from inserted_rows;
    if max_id is not null then
        perform pg_notify('events_inserted', max_id::text);
    end if;
    return null;
end
$$;

create trigger events_notify_inserted
    after insert on events
    referencing new table as inserted_rows
    for each statement execute function notify_events_inserted();
