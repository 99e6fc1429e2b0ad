-- Refresh tokens, stored only as SHA-256 hashes. Every rotation spends one token and issues
-- the next in the same family; presenting a spent token revokes the whole family.
create table refresh_tokens (
    token_hash bytea primary key,
    family_id  uuid        not null,
    user_id    text        not null references credentials (user_id) on delete cascade,
    issued_at  timestamptz not null default now(),
    expires_at timestamptz not null,
    spent_at   timestamptz,
    revoked_at timestamptz
);

create index refresh_tokens_family_idx on refresh_tokens (family_id);
