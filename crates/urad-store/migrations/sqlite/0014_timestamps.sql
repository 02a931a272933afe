-- RFC 3161 time stamps of received submissions. Owned by urad-filing (see
-- crates/urad-filing/src/timestamp.rs).

-- The demo's own time-stamping authority: one P-256 key and its self-signed certificate
-- (id-kp-timeStamping), made once. `slot` is unique so that when several processes start at
-- once exactly one insert wins. `private_key` is the PKCS#8-free raw scalar, base64url;
-- `certificate` the certificate's DER, base64url. Not a qualified authority.
CREATE TABLE demo_tsa_key (
    slot TEXT PRIMARY KEY,
    private_key TEXT NOT NULL,
    certificate TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The time-stamp token of a submission: over SHA-256 of its canonical receipt payload.
-- `token` is the TimeStampToken (CMS ContentInfo) DER, base64url; `stamped_at` the token's
-- genTime in Unix seconds. Written after the submission is committed, never with it.
CREATE TABLE submission_timestamp (
    submission_id TEXT PRIMARY KEY REFERENCES submission (id),
    token TEXT NOT NULL,
    stamped_at BIGINT NOT NULL,
    tsa_url TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
