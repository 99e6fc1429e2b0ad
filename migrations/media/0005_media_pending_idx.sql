-- The upload backlog: media stored and announced but not yet processed. An upload is refused
-- while MEDIA_MAX_PENDING_UPLOADS of them wait, so every upload counts them; this index holds
-- only the pending rows, so the count reads at most that many entries however large the
-- table grows.
create index media_pending_idx on media (id) where status = 'pending';
