-- Identity gateway: a client's name in English beside `name` (Czech), for clients declared in
-- content/clients.toml with `name = { cs = "…", en = "…" }`. NULL: the Czech name serves both.
-- Owned by urad-identity. Expand only: older versions ignore the column.
ALTER TABLE oidc_client ADD COLUMN name_en TEXT;
