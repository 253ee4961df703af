-- Issue 25 (cost against the floor): the text columns that the events' indexes and event_keys read compare byte by
-- byte (collation "C"), whatever the database's locale. deploy/stack.sh creates its cluster without a locale, so every
-- benchmark here compared bytes already; postgres:15's image (docker-compose.yml) and most managed servers create
-- databases in en_US.UTF-8, where each comparison in a B-tree is a strcoll() of the C library. On PostgreSQL alone a
-- statement shaped as the worker's cost 12-18% more a row in such a database than in one without a locale (6 rounds
-- of 6); through the pipeline in such a database, PostgreSQL cost 14% less per batched event with this migration than
-- without (docs/performance.md). Byte order is also what a key needs: it does not change with the C library's version,
-- which can silently reorder an index built under another (PostgreSQL's wiki, "Locale data changes").
-- The one order users see change: the statistics list event names in byte order ('Zebra' before 'apple').
-- Each index on these columns is rebuilt, under a lock that holds the worker's inserts (about 10 s a million events
-- here); the API goes on accepting meanwhile and the broker keeps what it accepted.
alter table events
    alter column source_id type text collate "C",
    alter column message_id type text collate "C",
    alter column event type text collate "C",
    alter column user_id type text collate "C",
    alter column anonymous_id type text collate "C";

alter table event_keys
    alter column source_id type text collate "C",
    alter column message_id type text collate "C";

alter table quarantined_events
    alter column source_id type text collate "C",
    alter column message_id type text collate "C";
