-- The live tail by commit (issue 11). Each row records the transaction that stored it; the API's one poller takes a
-- snapshot (pg_current_snapshot) per read and sends the rows whose transactions a snapshot sees and the previous one
-- did not: a row is sent once, when its transaction has committed, however long that transaction ran.
-- pg_current_xact_id() is the top-level transaction's id, also under the worker's savepoints.
--
-- No default on the existing rows: a volatile default would rewrite the whole table under lock. Rows stored before
-- this migration keep a null xact_id and are never tailed (they were stored before any tail of this version ran).
alter table events add column xact_id xid8;
alter table events alter column xact_id set default pg_current_xact_id();

-- The poller: the rows of every source after a position (xact_id, id), in that order.
create index events_xact on events (xact_id, id);
-- A client reconnecting with Last-Event-ID: its source's rows after a position.
create index events_source_xact on events (source_id, xact_id, id);
-- Only the old tail's look-back by stored_at used this one.
drop index events_source_stored;
