-- The grants processing robot (crates/urad-grants/src/robot.rs, docs/grants.md): each call's
-- allocation and each application's decision. The robot decides a call's applications in
-- receipt order: a batch of decisions and the call's new position commit together, so a
-- restart neither loses nor repeats one.

-- A call's queue: the budget left and the last receipt sequence decided.
CREATE TABLE grant_call_state (
    call_id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL,
    budget_czk BIGINT NOT NULL,
    remaining_czk BIGINT NOT NULL,
    last_sequence BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The decision on one application. `in_window`: received inside the call's window (only those
-- count as earlier applications for their building); `on_reserve`: waiting on the reserve
-- list; `holds_budget`: part of the budget is set aside for it. `reasons` and `trace` are JSON.
CREATE TABLE grant_decision (
    submission_id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    building_id TEXT NOT NULL,
    in_window BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    amount_czk BIGINT NOT NULL,
    holds_budget BIGINT NOT NULL,
    on_reserve BIGINT NOT NULL,
    reasons TEXT NOT NULL,
    trace TEXT NOT NULL,
    completion_last_day TEXT,
    decided_at BIGINT NOT NULL,
    decided_by TEXT NOT NULL,
    UNIQUE (call_id, sequence)
);
CREATE INDEX grant_decision_reserve ON grant_decision (call_id, on_reserve, sequence);
