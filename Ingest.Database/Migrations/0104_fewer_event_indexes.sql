-- Issue 14: every index on events costs each insert, and on a table that has outgrown memory a random-order index costs
-- a page read and a full-page image in the WAL. Six indexes are kept, of nine, each for a read-side query
-- (StressTests' read-side benchmark times them on 1,000,000 events, with their plans):
--   events_pkey                   (source_id, message_id): deduplication, and /v1/events/{messageId}
--   events_source_time            /v1/events newest first, and the stats by day
--   events_source_event_time      /v1/events?event=, and the stats by event name
--   events_source_anonymous_time  /v1/events?anonymousId=
--   events_source_user_key_time   /v1/events?userId= and the stats' first day of each user (below)
--   events_xact                   the live tail, the catch-up of a reconnecting client, and each transaction's count

-- The natural key is the primary key. Nothing looks an event up by id alone: pages and the tail order by id within
-- other indexes, so the index of id alone goes. (One index build, under lock, on a table that holds events.)
alter table events
    drop constraint events_pkey,
    drop constraint events_source_message,
    add constraint events_pkey primary key (source_id, message_id);

-- One index serves both user lookups: a row whose user_id is X has coalesce(user_id, anonymous_id) = X, so the events
-- list asks for both and reads this index, in the order it pages by.
drop index events_source_user_time;
drop index events_source_user_key_time;
create index events_source_user_key_time on events (source_id, (coalesce(user_id, anonymous_id)), "timestamp" desc, id desc);

-- A reconnecting client's catch-up is bounded by its replay window and its page size: it reads events_xact from its
-- position and filters by source, as the poller does for every source.
drop index events_source_xact;
