-- Issue 23 (privacy): what each source stores of a client's IP in context.ip, whether the API recorded it from the
-- connection or the client sent it. The API loads it with the source's keys (Ingest.Api/Keys/KeyStore) and applies it
-- on the write path (Ingest.Api/Tracking/ClientIp): 'keep' as it is, 'anonymize' (the last octet of IPv4, the last
-- 80 bits of IPv6 zeroed) or 'drop'. Anonymize is the default: an IP is personal data, so a source keeps it whole only
-- when someone chose to (Ingest.Worker source set <id> --ip keep). A constant default makes this a catalog change,
-- without a rewrite of the table.
alter table sources add column ip_policy text not null default 'anonymize'
    constraint sources_ip_policy check (ip_policy in ('keep', 'anonymize', 'drop'));
