-- The personal-data access log: every read or change of a person's data by the office and
-- every decision, append-only and hash-chained. Owned by urad-audit (see
-- crates/urad-audit/src/lib.rs and docs/audit.md).

-- The head of the chain: one row, the last seq given and the chain hash after it. An append
-- updates it and inserts the entry in the same transaction (the caller's own write), so seqs
-- are gapless and follow commit order (on PostgreSQL the row stays locked until the commit).
-- `chain_hash` starts at the genesis value, 64 zeros.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    chain_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, chain_hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- One entry. `entry_hash` is the SHA-256 (hex) of the canonical encoding of the content
-- (`at` to `details`), computed by urad-audit; `chain_hash` = sha256_hex(chain hash of the
-- entry before || entry_hash || seq). `details` is small JSON, kept as the exact text hashed.
-- seq is the rowid: entries are stored in seq order. It is never NULL in practice: it comes
-- from the head, and so does chain_hash, which is NOT NULL, so an append without a head fails.
CREATE TABLE audit_entry (
    seq INTEGER PRIMARY KEY,
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

-- Append-only as far as SQLite allows: entries and checkpoints are never updated or deleted,
-- the head only moves forward by one, and an entry is inserted only at the head's seq and
-- chain hash (so only together with its head's update). Anyone who can write the database
-- file can drop these triggers; `urad audit verify` still finds what they changed.
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE of audit_entry refused');
END;
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: DELETE from audit_entry refused');
END;
CREATE TRIGGER audit_entry_follows_head BEFORE INSERT ON audit_entry
WHEN NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq = NEW.seq AND chain_hash = NEW.chain_hash)
BEGIN
    SELECT RAISE(ABORT, 'an audit entry is inserted only at the head it was appended with');
END;
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
WHEN NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1
BEGIN
    SELECT RAISE(ABORT, 'the audit head only moves forward by one');
END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: DELETE from audit_head refused');
END;
CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE of audit_checkpoint refused');
END;
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: DELETE from audit_checkpoint refused');
END;
