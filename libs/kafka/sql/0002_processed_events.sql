-- Events a consumer has already applied (platform-kafka idempotency): a handler inserts the
-- event id in the same transaction as its effect, so a redelivered event changes nothing.
-- Copy this file into the service's migrations. Rows older than the topics' retention can no
-- longer be redelivered and may be deleted.
create table processed_events (
    consumer text not null,                        -- who applied it, e.g. user.on-media-processed
    event_id uuid not null,
    processed_at timestamptz not null default now(),
    primary key (consumer, event_id)
);
