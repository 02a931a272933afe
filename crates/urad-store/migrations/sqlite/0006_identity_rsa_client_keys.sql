-- Identity gateway: an RS256 key set beside the ES256 one, the ID-token algorithm of each
-- client, and the ids of client assertions already used (private_key_jwt, RFC 7523).
-- Owned by urad-identity.

-- One active and one next key per algorithm: the slot is unique per algorithm, not overall.
-- SQLite cannot change a table's constraints, so the table is rebuilt with its rows.
CREATE TABLE signing_key_by_alg (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    slot TEXT CHECK (slot IN ('active', 'next')),
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at BIGINT,
    expires_at BIGINT,
    UNIQUE (alg, slot)
);

INSERT INTO signing_key_by_alg (kid, alg, slot, private_key, public_jwk, created_at, activated_at, retired_at, expires_at)
    SELECT kid, alg, slot, private_key, public_jwk, created_at, activated_at, retired_at, expires_at FROM signing_key;

DROP TABLE signing_key;

ALTER TABLE signing_key_by_alg RENAME TO signing_key;

-- The algorithm of the client's ID tokens (OpenID Connect Dynamic Client Registration §2).
ALTER TABLE oidc_client ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256'
    CHECK (id_token_signed_response_alg IN ('ES256', 'RS256'));

-- `jti` of every accepted client assertion, kept until the assertion expires, so each one is
-- accepted once (RFC 7523 §3, item 7).
CREATE TABLE client_assertion_jti (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);

CREATE INDEX client_assertion_jti_expires ON client_assertion_jti (expires_at);
