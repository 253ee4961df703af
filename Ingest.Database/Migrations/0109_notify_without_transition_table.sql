-- Issue 25 (cost against the floor): the live tail's wake-up without a transition table. Since 0100 the statement
-- trigger kept every inserted row in a tuplestore (referencing new table) only to put the largest id in the
-- notification's payload, which no listener reads: LiveTailReader wakes on any notification and reads from its own
-- position. Now each insert statement notifies with an empty payload and copies nothing. A statement that stored no
-- row (a batch of duplicates) notifies too: a tail wakes, reads nothing new, and waits again. Notifications are sent
-- at commit and one per transaction (PostgreSQL folds identical ones), as before.
drop trigger events_notify_inserted on events;

create or replace function notify_events_inserted() returns trigger language plpgsql as $$
begin
    perform pg_notify('events_inserted', '');
    return null;
end
$$;

create trigger events_notify_inserted after insert on events for each statement execute function notify_events_inserted();
