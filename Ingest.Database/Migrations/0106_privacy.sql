-- Privacy requests (issue 23): admin keys, the audit record of each request, suppressions and erasures kept as keyed
-- hashes of the subjects' ids, and the filter that keeps an erased subject's events still in flight out of the stores.

alter table api_keys drop constraint api_keys_scope_check;
alter table api_keys add constraint api_keys_scope_check check (scope in ('write', 'read', 'admin'));

-- The key of the subjects' hashes: made here, once, from the server's randomness, never leaves the database but to
-- the API (which checks suppressions in memory). Without it, a hash of an email cannot be matched against a guess.
create table privacy_hash_key (
    singleton boolean primary key default true check (singleton),
    key bytea not null
);
insert into privacy_hash_key (key)
select sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8'));

-- A subject's keyed hash: kind is 'userId' or 'anonymousId'. Ingest.Database/Privacy/SubjectHash computes the same.
create function privacy_subject_hash(kind text, subject text) returns bytea
language sql stable parallel safe as $$
    select sha256((select key from privacy_hash_key) || convert_to(kind || ':' || subject, 'UTF8'))
$$;

-- One row per request: the audit record (who, when, what, result) and the work queue of the privacy runner.
create table privacy_requests (
    id uuid primary key,
    source_id text not null references sources (id),
    key_prefix text not null,               -- which key made it (api_keys.key_prefix), or 'cli' for the command line
    type text not null check (type in ('suppress', 'unsuppress', 'delete', 'suppress_with_delete')),
    status text not null default 'pending' check (status in ('pending', 'running', 'done', 'failed')),
    reason text,                            -- why it failed
    subjects int not null,
    requested_at timestamptz not null default clock_timestamp(),
    started_at timestamptz,
    finished_at timestamptz,
    removed_events bigint not null default 0,
    removed_quarantined bigint not null default 0,
    removed_dead_letters bigint not null default 0,
    attempts int not null default 0,        -- claims so far: a request failing past Ingest:Privacy:MaxAttempts is failed
    claimed_by text,                        -- the worker running it, and until when its claim holds
    claimed_until timestamptz
);
create index privacy_requests_source on privacy_requests (source_id, requested_at desc);
create index privacy_requests_open on privacy_requests (requested_at) where status in ('pending', 'running');

-- A request's subjects. The id itself is kept only while a deletion needs it to find the rows and the dead letters,
-- and is set to null when the request ends; the hash stays for the record.
create table privacy_subjects (
    request_id uuid not null references privacy_requests (id) on delete cascade,
    ordinal int not null,
    kind text not null check (kind in ('userId', 'anonymousId')),
    subject_hash bytea not null,
    subject text,
    primary key (request_id, ordinal)
);

-- What a source holds against a subject, one row each: suppressed (the API answers its events 200 and never
-- publishes them, and the worker never stores one that got through), and erased (an event received before
-- erased_before is never stored, wherever it was waiting when the deletion ran).
create table privacy_filters (
    source_id text not null references sources (id),
    subject_hash bytea not null,
    suppressed_by uuid references privacy_requests (id),
    erased_before timestamptz,
    erased_by uuid references privacy_requests (id),
    primary key (source_id, subject_hash)
);
create index privacy_filters_suppressed on privacy_filters (source_id) where suppressed_by is not null;

-- The quarantine names its subjects, so that a deletion finds them (and the filter below skips them) without parsing raw.
alter table quarantined_events add column user_id text, add column anonymous_id text;
do $$
declare
    q record;
    message jsonb;
begin
    for q in select id, raw from quarantined_events loop
        begin
            message := replace(q.raw, '\u0000', '\ufffd')::jsonb; -- jsonb refuses NUL, the usual reason for quarantine
            update quarantined_events set user_id = message ->> 'userId', anonymous_id = message ->> 'anonymousId' where id = q.id;
        exception when others then
            null; -- a raw message jsonb cannot read even so (a lone surrogate): its ids stay unknown
        end;
    end loop;
end
$$;
-- No index on them: the quarantine must take any event PostgreSQL refused, also one whose id is too large for a btree
-- row (SQLSTATE 54000, which is often why it is there). A deletion finds them among its source's rows
-- (quarantined_events_message), a table that holds the few events that were refused.

-- Whether an event of this subject, received at that time, must not be stored: suppressed, or erased since. Volatile,
-- so that each call reads privacy_filters with a snapshot of its own: a deletion committed while a batch's statement
-- runs is seen by its later rows (PrivacyRunner relies on it to wait only for the transactions running at that commit).
create function is_filtered(in_source_id text, in_user_id text, in_anonymous_id text, in_received_at timestamptz) returns boolean
language plpgsql volatile as $$
begin
    return exists (
        select 1 from privacy_filters
        where source_id = in_source_id
          and subject_hash in (privacy_subject_hash('userId', in_user_id), privacy_subject_hash('anonymousId', in_anonymous_id))
          and (suppressed_by is not null or erased_before > in_received_at));
end
$$;

-- As in 0105, and an event of a suppressed subject, or of one erased after it was received, is skipped as a duplicate is. The key is
-- claimed first, so a resent erased event stays refused like any duplicate. A source nobody asked to erase from pays
-- one index probe a row and no hash.
create or replace function claim_event_key() returns trigger language plpgsql as $$
begin
    insert into event_keys (source_id, message_id, stored_at) values (new.source_id, new.message_id, new.stored_at)
    on conflict (source_id, message_id) do nothing;
    if not found then
        return null;
    end if;
    if exists (select 1 from privacy_filters where source_id = new.source_id)
       and is_filtered(new.source_id, new.user_id, new.anonymous_id, new.received_at) then
        return null;
    end if;
    return new;
end
$$;

-- The same for the quarantine: a filtered subject's event that PostgreSQL refused is not kept either.
create function skip_erased_quarantine() returns trigger language plpgsql as $$
declare
    received_at timestamptz;
begin
    if not exists (select 1 from privacy_filters where source_id = new.source_id) then
        return new;
    end if;
    begin
        received_at := (replace(new.raw, '\u0000', '\ufffd')::jsonb ->> 'receivedAt')::timestamptz;
    exception when others then
        received_at := new.quarantined_at;
    end;
    if is_filtered(new.source_id, new.user_id, new.anonymous_id, coalesce(received_at, new.quarantined_at)) then
        return null;
    end if;
    return new;
end
$$;
create trigger quarantined_events_skip_erased before insert on quarantined_events for each row execute function skip_erased_quarantine();
