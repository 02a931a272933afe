-- Identity gateway: people, their linked upstream identities and SSO sessions.
-- Owned by urad-identity.

CREATE TABLE person (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- One person's logins at upstream providers. Identities are linked to one person only by a
-- verified identifier (`link_key_sha256`, e.g. derived from the national identifier that both
-- NIA and a bank have verified), never by name.
CREATE TABLE person_identity (
    upstream TEXT NOT NULL,
    upstream_subject TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    link_key_sha256 TEXT,
    linked_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (upstream, upstream_subject)
);

CREATE INDEX person_identity_person ON person_identity (person_id);
CREATE INDEX person_identity_link_key ON person_identity (link_key_sha256);

-- A signed-in browser. The cookie carries a random token; only its SHA-256 is stored.
-- `sid` is the public session id used in tokens and back-channel logout.
CREATE TABLE sso_session (
    token_sha256 TEXT PRIMARY KEY,
    sid TEXT NOT NULL UNIQUE,
    person_id TEXT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    upstream TEXT NOT NULL,
    loa TEXT NOT NULL CHECK (loa IN ('low', 'substantial', 'high')),
    amr TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    claims TEXT NOT NULL,
    upstream_id_token TEXT,
    user_agent TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);

CREATE INDEX sso_session_person ON sso_session (person_id);
