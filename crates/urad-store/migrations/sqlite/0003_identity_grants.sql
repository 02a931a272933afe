-- Identity gateway: authorization codes and refresh tokens. Owned by urad-identity.
-- Only SHA-256 of codes and tokens is stored: a copy of the database grants nothing.

CREATE TABLE authorization_code (
    code_sha256 TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oidc_client (client_id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    sid TEXT NOT NULL,
    person_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    loa TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Refresh tokens rotate on every use; all tokens descended from one sign-in share a family,
-- and presenting a used token again revokes the whole family (RFC 9700 §4.14.2).
CREATE TABLE refresh_token (
    token_sha256 TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES oidc_client (client_id) ON DELETE CASCADE,
    sid TEXT NOT NULL,
    person_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    loa TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX refresh_token_family ON refresh_token (family_id);
CREATE INDEX refresh_token_sid ON refresh_token (sid);
