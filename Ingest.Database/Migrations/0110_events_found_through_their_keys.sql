-- Issue 25 (cost against the floor): events_pkey (source_id, message_id, stored_at) gives way to an index on
-- (stored_at, message_id). Uniqueness has been event_keys' business since 0105; the primary key's one reader was
-- GET /v1/events/{messageId}, one probe in every partition. Each insert put a random message id into it, 20-28% of the
-- events' own insert measured with COPY on PostgreSQL alone (docs/performance.md, "Where PostgreSQL's share goes").
-- Now a lookup reads the stored_at of the event's key in event_keys (every key carries its event's stored_at: 0105,
-- 0108) and finds the event in that one partition by (stored_at, message_id). stored_at follows the database's clock, so
-- an insert lands at the right-hand edge of the index instead of at a random page. PrivacyRunner's deletes, which join
-- on (id, stored_at), find their rows through it too.
alter table events drop constraint events_pkey;
create index events_stored on events (stored_at, message_id);
