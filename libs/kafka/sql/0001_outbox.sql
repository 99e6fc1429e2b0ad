-- The transactional outbox (platform-kafka): a service writes each event here in the same
-- transaction as the state change; the outbox relay publishes it to Kafka and sets sent_at.
-- Copy this file into the service's migrations.
create table outbox (
    id uuid primary key,                           -- the event id (uuid v7: ordered by creation)
    topic text not null,
    key text not null,                             -- the aggregate id, e.g. the user id
    event_type text not null,                      -- e.g. user.registered.v1
    payload bytea not null,                        -- protobuf-encoded
    headers jsonb not null default '{}',           -- trace context captured at enqueue time
    created_at timestamptz not null default now(),
    sent_at timestamptz null,                      -- null until Kafka acknowledged the event
    sent_to text not null default ''               -- the cluster id that acknowledged it
);

-- The relay reads pending rows oldest first.
create index outbox_pending_idx on outbox (created_at, id) where sent_at is null;

-- Pruning finds old published rows without scanning the table.
create index outbox_sent_idx on outbox (sent_at) where sent_at is not null;
