-- An event is in quarantine at most once while it is not replayed. The worker inserts with ON CONFLICT DO NOTHING on
-- this index instead of a NOT EXISTS check: when a replay has marked the row replayed but not yet committed, the
-- worker's insert waits for that commit (and then finds no conflict) instead of reading the old row as still
-- quarantined and dropping the event that was refused again.
create unique index quarantined_events_unreplayed on quarantined_events (source_id, message_id) where replayed_at is null;
