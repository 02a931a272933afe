-- Identity gateway: an RS256 key set beside the ES256 one, the ID-token algorithm of each
-- client, and the ids of client assertions already used (private_key_jwt, RFC 7523).
-- Owned by urad-identity.

-- One active and one next key per algorithm: the slot is unique per algorithm, not overall.
ALTER TABLE signing_key DROP CONSTRAINT signing_key_slot_key;
ALTER TABLE signing_key ADD CONSTRAINT signing_key_alg_slot_key UNIQUE (alg, slot);
ALTER TABLE signing_key ADD CONSTRAINT signing_key_alg_check CHECK (alg IN ('ES256', 'RS256'));

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
