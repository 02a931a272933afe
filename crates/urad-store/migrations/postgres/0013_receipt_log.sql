-- The receipt log (the append-only Merkle log of receipts, RFC 9162 style): the office's
-- receipt-signing key and the signed tree heads. The leaves are not stored: leaf `i` is the
-- canonical receipt payload of the submission with `log_index = i`, recomputed from it.
-- Owned by urad-filing (see crates/urad-filing/src/receipt_log.rs).

-- The office's Ed25519 receipt key. `slot` is unique, so when several processes start at
-- once on one database and each makes a key, exactly one insert wins and all use that key.
-- `private_key` is its PKCS#8 document, base64url; `public_jwk` the JWK everyone verifies with.
CREATE TABLE receipt_key (
    kid TEXT PRIMARY KEY,
    slot TEXT NOT NULL UNIQUE,
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Every signed tree head, kept so that later heads can be proven consistent with earlier
-- ones. One head per tree size: a process that signs a size another already signed keeps
-- the stored head. `root_hash` is hexadecimal, `timestamp` milliseconds since the epoch,
-- `signature` the Ed25519 signature (base64url) of the head's TreeHeadDataV2 encoding.
CREATE TABLE receipt_tree_head (
    tree_size BIGINT PRIMARY KEY,
    root_hash TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    kid TEXT NOT NULL,
    signature TEXT NOT NULL
);
