-- The data model of ../shared/DESIGN.md: sources, their keys, the events, the quarantine and the transaction log.

create table sources (
    id text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name text not null,
    allowed_origins text[] not null default '{}',
    created_at timestamptz not null default now()
);

create table api_keys (
    key_hash bytea primary key,            -- SHA-256 of the key; the key itself is never stored
    key_prefix text not null,              -- the first characters, to name a key when revoking it
    source_id text not null references sources (id),
    scope text not null check (scope in ('write', 'read')),
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
create index api_keys_source on api_keys (source_id);

create table events (
    id bigint generated always as identity primary key,
    source_id text not null,
    message_id text not null,
    type text not null,
    event text,
    name text,
    user_id text,
    anonymous_id text,
    group_id text,
    previous_id text,
    "timestamp" timestamptz not null,
    original_timestamp timestamptz,
    sent_at timestamptz,
    received_at timestamptz not null,
    stored_at timestamptz not null default clock_timestamp(),
    timestamp_clamped boolean not null default false,
    properties jsonb,
    traits jsonb,
    context jsonb,
    integrations jsonb,
    constraint events_source_message unique (source_id, message_id)
);

create table quarantined_events (
    id bigint generated always as identity primary key,
    source_id text not null,
    message_id text not null,
    raw text not null,                     -- the message as the worker received it
    reason text not null,
    transaction_id uuid not null,
    quarantined_at timestamptz not null default now(),
    replayed_at timestamptz
);
create index quarantined_events_message on quarantined_events (source_id, message_id);

create table ingest_transactions (
    id uuid primary key,
    worker_host text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null check (status in ('committed', 'failed')),
    broker_messages int not null,
    events int not null,
    inserted int not null default 0,
    duplicates int not null default 0,
    quarantined int not null default 0,
    attempt int not null default 1,
    error text
);
create index ingest_transactions_started on ingest_transactions (started_at desc);
