-- The personal-data access log: every read or change of a person's data by the office and
-- every decision, append-only and hash-chained. Owned by urad-audit (see
-- crates/urad-audit/src/lib.rs and docs/audit.md).

-- SHA-256 of the text's UTF-8 bytes, lowercase hex. SQLite has the same function, registered
-- on every connection urad-store opens (crates/urad-store/src/sqlite.rs).
CREATE FUNCTION sha256_hex(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') $$;

-- The head of the chain: one row, the last seq given and the chain hash after it. An append
-- updates it and inserts the entry in the same transaction (the caller's own write): the row
-- stays locked until the commit, so seqs are gapless and follow commit order across
-- processes. `chain_hash` starts at the genesis value, 64 zeros.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    chain_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, chain_hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- One entry. `entry_hash` is the SHA-256 (hex) of the canonical encoding of the content
-- (`at` to `details`), computed by urad-audit; `chain_hash` = sha256_hex(chain hash of the
-- entry before || entry_hash || seq). `details` is small JSON, kept as the exact text hashed
-- (TEXT, not JSONB, which would not keep it byte for byte).
CREATE TABLE audit_entry (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_person_id TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    subject_person_id TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    case_id TEXT,
    agenda TEXT,
    purpose TEXT NOT NULL,
    details TEXT NOT NULL,
    entry_hash TEXT NOT NULL,
    chain_hash TEXT NOT NULL
);
-- "Who accessed my data" (newest first) and the accesses of one case.
CREATE INDEX audit_entry_subject ON audit_entry (subject_person_id, seq);
CREATE INDEX audit_entry_case ON audit_entry (case_id, seq);

-- Heads recorded by `urad audit verify --checkpoint` after a verification that held: a later
-- rewrite of the history before one is found even if the chain was recomputed consistently.
CREATE TABLE audit_checkpoint (
    seq BIGINT PRIMARY KEY,
    chain_hash TEXT NOT NULL,
    at BIGINT NOT NULL
);

-- Append-only as far as the database can enforce it: entries and checkpoints are never
-- updated, deleted or truncated, the head only moves forward by one, and an entry is inserted
-- only at the head's seq and chain hash (so only together with its head's update). A role
-- that owns the tables can drop these triggers; `urad audit verify` still finds what it
-- changed. In production the application's role should not own them (docs/audit.md).
CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 THEN
        RAISE EXCEPTION 'the audit head only moves forward by one';
    END IF;
    RETURN NEW;
END
$$;
CREATE FUNCTION audit_entry_follows_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_head
                   WHERE id = 1 AND seq = NEW.seq AND chain_hash = NEW.chain_hash) THEN
        RAISE EXCEPTION 'an audit entry is inserted only at the head it was appended with';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_entry_follows_head BEFORE INSERT ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_follows_head();
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
