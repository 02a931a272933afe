-- Identity gateway: one index on (sid, family_id) instead of one on each. Every refresh grant
-- inserts a row; each secondary index puts that row on a page of its own (the session's, the
-- family's), and on SQLite each such page is written out whole at the commit: two indexes
-- meant two scattered pages per grant, one means one. Queries by session use the prefix; a
-- family is revoked with its session's id (every family belongs to one session).
-- Owned by urad-identity. Older versions still work: they revoke a family by family_id alone,
-- which scans instead of seeking.
CREATE INDEX refresh_token_sid_family ON refresh_token (sid, family_id);
DROP INDEX refresh_token_family;
DROP INDEX refresh_token_sid;
