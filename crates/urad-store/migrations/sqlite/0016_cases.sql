-- Back office: case files opened from received submissions, their timeline, and completion
-- requests. Owned by urad-cases (see crates/urad-cases/src/cases.rs).

-- One case file per submission, in an agenda, in a state of the agenda's workflow.
-- `due_at` is when the decision is due: the end of `due_last_day` in Europe/Prague, counted
-- from receipt by Czech rules; the time the applicant takes to complete the submission does
-- not count (správní řád § 71 (3)), so an answer moves it on.
CREATE TABLE case_file (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL UNIQUE,
    due_last_day TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    reference TEXT NOT NULL,
    agenda TEXT NOT NULL,
    workflow TEXT NOT NULL,
    state TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    assignee_id TEXT,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT,
    disposal_year BIGINT,
    revision BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX case_file_agenda_state ON case_file (agenda, state, opened_at);
CREATE INDEX case_file_applicant ON case_file (applicant_id, opened_at);
CREATE INDEX case_file_assignee ON case_file (assignee_id, state);

-- What happened to a case, in order: opened, assigned, a note, a move, a reassignment, a
-- completion request and its answer or lapse, a decision. `actor_id` is empty for the system.
-- `public` events are shown to the applicant in "My submissions".
CREATE TABLE case_event (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES case_file (id),
    at BIGINT NOT NULL,
    actor_id TEXT,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    body TEXT,
    public BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX case_event_case ON case_event (case_id, at);

-- A request to the applicant to complete the submission (výzva k doplnění) by a deadline:
-- the end of `last_day` in Europe/Prague (`deadline_at`, UTC), counted by Czech rules. The
-- applicant answers with a submission of their own (`answer_submission_id`), received and
-- receipted like any other.
CREATE TABLE completion_request (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES case_file (id),
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    message TEXT NOT NULL,
    days BIGINT NOT NULL,
    last_day TEXT NOT NULL,
    deadline_at BIGINT NOT NULL,
    answer_draft_id TEXT UNIQUE,
    answer_submission_id TEXT UNIQUE,
    answered_at BIGINT,
    lapsed_at BIGINT,
    reminded_at BIGINT
);
CREATE INDEX completion_request_case ON completion_request (case_id);
CREATE INDEX completion_request_open ON completion_request (deadline_at)
    WHERE answered_at IS NULL AND lapsed_at IS NULL;

-- Every submission the back office has taken in, in receipt-log order: it opened a case, or
-- it answered a completion request of one. Intake goes on after the highest `log_index`.
CREATE TABLE case_intake (
    submission_id TEXT PRIMARY KEY,
    log_index BIGINT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    at BIGINT NOT NULL
);
