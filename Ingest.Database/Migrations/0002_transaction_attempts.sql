-- A transaction keeps its id across attempts, and each failed attempt leaves a row of its own ('failed', with the
-- error) before the one that commits: the key of the transaction log becomes (id, attempt).
alter table ingest_transactions drop constraint ingest_transactions_pkey;
alter table ingest_transactions add primary key (id, attempt);

-- What a transaction quarantined, for the quarantine view and replays.
create index quarantined_events_transaction on quarantined_events (transaction_id);
