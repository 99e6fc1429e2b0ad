-- Uploaded media: one row per upload, from `pending` (the original is stored and announced)
-- to `ready` (the worker stored its variants) or `failed` (the worker refused it).
create table media (
    id           uuid        primary key,               -- uuid v7, so ids sort by upload time
    owner_id     text        not null,
    status       text        not null default 'pending',
    content_type text        not null,                  -- of the original, as sniffed at upload
    size_bytes   bigint      not null,
    object_key   text        not null,                  -- of the original in object storage
    width        int,                                   -- null until ready
    height       int,
    error        text,                                  -- `<reason>: <message>` once failed
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    constraint media_status_check
        check (status in ('pending', 'processing', 'ready', 'failed')),
    constraint media_size_check check (size_bytes > 0),
    constraint media_dimensions_check check (width > 0 and height > 0),
    constraint media_ready_has_dimensions
        check (status <> 'ready' or (width is not null and height is not null)),
    constraint media_failed_has_error check (status <> 'failed' or error is not null)
);

-- An owner's media, newest first.
create index media_owner_idx on media (owner_id, created_at desc, id desc);

-- What the worker stored for a ready media: `original` (full size, metadata stripped) and
-- the sized variants (`thumb`, `small`, `large`, ...).
create table media_variants (
    media_id     uuid   not null references media (id) on delete cascade,
    name         text   not null,
    width        int    not null,
    height       int    not null,
    content_type text   not null,
    size_bytes   bigint not null,
    object_key   text   not null,
    etag         text   not null,                        -- hex SHA-256 of the bytes
    primary key (media_id, name),
    constraint media_variants_dimensions_check check (width > 0 and height > 0),
    constraint media_variants_size_check check (size_bytes >= 0)
);
