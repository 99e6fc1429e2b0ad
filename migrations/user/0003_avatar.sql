-- The profile picture: the media it shows and the sizes it comes in, as the media service
-- described them when the user picked it, e.g.
-- {"media_id": "…", "variants": [{"name": "thumb", "width": 128, "height": 85}, …]}.
-- Null until the user picks one. Adding a nullable column without a default rewrites nothing.
alter table profiles add column avatar jsonb;
