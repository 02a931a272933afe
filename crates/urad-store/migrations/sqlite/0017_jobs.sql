-- Durable jobs, portal notices and notification preferences.
-- `job` is owned by urad-jobs (crates/urad-jobs/src/lib.rs); `notice` and
-- `notification_preference` by urad-notify (crates/urad-notify/src/). Instants are Unix seconds.

-- One unit of background work on a queue (`email`, a records-management hand-off …).
-- pending: waits for `run_at`; running: claimed by `locked_by` until `locked_until` (its
-- lease; a job whose worker died is taken again after it); done; failed: gave up after
-- `max_attempts` attempts or on a permanent error, kept for the queue page until resent.
-- `dedup_key`, when given, is unique for ever: the same work enqueued twice is one job.
CREATE TABLE job (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedup_key TEXT UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
-- The claim: the due pending jobs of a queue, oldest first; also the queue page by state.
CREATE INDEX job_claim ON job (queue, state, run_at);
-- Running jobs whose lease has run out.
CREATE INDEX job_lease ON job (state, locked_until);

-- A notice in the portal ("Moje zprávy"), in both languages, rendered when it was made.
CREATE TABLE notice (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    case_id TEXT,
    title_cs TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_cs TEXT NOT NULL,
    body_en TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notice_person ON notice (person_id, created_at);

-- How a person wants to be told. No row: e-mail on, to the address from the identity,
-- in Czech. `email` NULL: the address from the identity.
CREATE TABLE notification_preference (
    person_id TEXT PRIMARY KEY,
    email TEXT,
    email_enabled BIGINT NOT NULL,
    lang TEXT NOT NULL CHECK (lang IN ('cs', 'en')),
    updated_at BIGINT NOT NULL
);
