-- Identity gateway: token-signing keys and registered clients. Owned by urad-identity.

-- Signing keys. `slot` is 'active' (signs), 'next' (published, signs after the next rotation)
-- or NULL (retired: published until `expires_at` so tokens it signed still verify).
CREATE TABLE signing_key (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    slot TEXT UNIQUE CHECK (slot IN ('active', 'next')),
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at BIGINT,
    expires_at BIGINT
);

-- Relying parties. Secrets are stored only as SHA-256 of a 256-bit random secret.
CREATE TABLE oidc_client (
    client_id TEXT PRIMARY KEY,
    secret_sha256 TEXT,
    auth_method TEXT NOT NULL
        CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    backchannel_logout_uri TEXT,
    min_loa TEXT NOT NULL CHECK (min_loa IN ('low', 'substantial', 'high')),
    jwks TEXT,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
