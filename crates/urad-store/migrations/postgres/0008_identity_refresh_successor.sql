-- Identity gateway: a refresh token names the token it replaced. The unique index lets a
-- token have at most one successor, so rotation is one atomic statement (INSERT … SELECT …
-- ON CONFLICT DO NOTHING) on both databases: of two requests presenting the same token only
-- one gets a successor, and the other is a reuse. A token is spent when it has a successor
-- (or, for tokens from before this migration, when used_at is set).
-- Owned by urad-identity. Expand only: older versions ignore the column.
ALTER TABLE refresh_token ADD COLUMN parent_sha256 TEXT;
CREATE UNIQUE INDEX refresh_token_parent ON refresh_token (parent_sha256);
