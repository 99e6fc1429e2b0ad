-- Events whose effect is already in this database: redelivery is recorded in the same
-- transaction as the effect, so handling an event twice changes nothing.
create table processed_events (
    consumer     text        not null,
    event_id     uuid        not null,
    processed_at timestamptz not null default now(),
    primary key (consumer, event_id)
);
