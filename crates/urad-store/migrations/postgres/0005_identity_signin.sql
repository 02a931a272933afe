-- Identity gateway: the sign-in flow in flight, the demo identity provider's codes, the
-- portal's own sessions as a client of the gateway, and the audit log. Owned by urad-identity
-- (audit_event is shared by every part that records security events).

-- An authorization request waiting for the person to sign in upstream. Bound to the browser
-- that started it by a cookie whose SHA-256 is `browser_sha256` (no login CSRF); `upstream_state`
-- is the state sent upstream with its nonce and PKCE verifier.
CREATE TABLE pending_authorization (
    id TEXT PRIMARY KEY,
    browser_sha256 TEXT NOT NULL,
    request TEXT NOT NULL,
    upstream TEXT,
    upstream_state TEXT UNIQUE,
    upstream_nonce TEXT,
    upstream_verifier TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Codes issued by the built-in demo identity provider (a real, separate OIDC issuer).
CREATE TABLE demo_idp_code (
    code_sha256 TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    nonce TEXT,
    person TEXT NOT NULL,
    loa TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- The portal as a relying party of its own gateway: its sign-in state and its sessions.
CREATE TABLE portal_session (
    token_sha256 TEXT PRIMARY KEY,
    sid TEXT,
    person_id TEXT,
    state TEXT,
    nonce TEXT,
    verifier TEXT,
    return_to TEXT,
    id_token TEXT,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX portal_session_sid ON portal_session (sid);

-- Security events: sign-in, sign-out, failures, step-up, token reuse. Append-only.
CREATE TABLE audit_event (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    person_id TEXT,
    client_id TEXT,
    sid TEXT,
    ip TEXT,
    detail TEXT NOT NULL
);

CREATE INDEX audit_event_person ON audit_event (person_id, at);
CREATE INDEX audit_event_kind ON audit_event (kind, at);

-- The demo identity provider's signing key (one row; it is a separate issuer).
CREATE TABLE demo_idp_key (
    kid TEXT PRIMARY KEY,
    private_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
