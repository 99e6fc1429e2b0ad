-- Profiles. Every regional shard has this schema; a row lives in its owner's home region.
create table profiles (
    id           text primary key,
    email        text        not null,
    display_name text        not null,
    bio          text        not null default '',
    region       text        not null,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);
