-- Credentials: who can sign in. The email is stored normalised (trimmed, lowercase).
create table credentials (
    user_id       text primary key,
    email         text        not null,
    password_hash text        not null,
    region        text        not null,
    created_at    timestamptz not null default now()
);

create unique index credentials_email_key on credentials (email);
