-- E-filing office (podatelna): drafts of online forms, submissions with their registry-journal
-- entry, and the counters behind reference numbers and receipt sequences.
-- Owned by urad-filing (see crates/urad-filing/src/lib.rs).

-- A form being filled in, kept on the server so that it can be resumed (also after the
-- session expired). `data` is the form's JSON; `form_version` the version it is filled with.
CREATE TABLE draft (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    form_id TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_at BIGINT
);
CREATE INDEX draft_person ON draft (person_id, updated_at);

-- A received submission and its registry-journal entry. Its id is the draft's: a draft is
-- submitted once, and submitting it again answers with this row (idempotent).
-- `reference` is unique per office and year (`KUMSK 12345/2026`); `sequence` counts the
-- submissions of one `scope` (a grant call or a service) in commit order, without gaps.
CREATE TABLE submission (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    reference_year BIGINT NOT NULL,
    reference_number BIGINT NOT NULL,
    scope TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    person_id TEXT NOT NULL,
    form_id TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    data TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    UNIQUE (scope, sequence),
    UNIQUE (reference_year, reference_number)
);
CREATE INDEX submission_person ON submission (person_id, received_at);

-- Counters of the filing office: `value` is the last number given, `last_at` the instant of
-- the last submission counted (so that instants never go back in sequence order, whichever
-- process's clock gave them). A counter row is updated inside the submission's transaction:
-- it is locked until the commit, so numbers follow commit order, and a rolled-back
-- submission gives its number back.
CREATE TABLE filing_counter (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);
