//! Durable jobs in the database, on SQLite and PostgreSQL alike: background work (e-mail, the
//! hand-off of cases and decisions to the records-management system) that a crash, a restart
//! or a failing remote server delays but never loses.
//!
//! - **Enqueued with the change that causes it.** [`enqueue`] gives a [`Statement`] for the
//!   caller's own [`Db::write`] batch: a case change and the e-mail about it are committed
//!   together, or neither is. A job with a [`NewJob::dedup_key`] is enqueued once for ever
//!   (`INSERT … ON CONFLICT (dedup_key) DO NOTHING`), so a caller that repeats its work does
//!   not repeat the job.
//! - **Claimed with a lease.** [`claim`] takes the oldest due job of a queue and marks it
//!   running by one worker until `locked_until`; the worker extends the lease while the job
//!   runs. A job whose worker died is released when its lease has run out and taken again.
//!   No job runs twice at once, also with several processes on one PostgreSQL (see
//!   [`claim`] for why).
//! - **Retried with backoff.** A failed attempt puts the job back with `run_at` moved on
//!   exponentially ([`RetryPolicy`]), until `max_attempts`; then it is `failed` and stays
//!   visible ([`list`], [`counts`]) until someone [`resend`]s it.
//! - **Workers** ([`run_worker`], [`spawn_worker`]) poll their queue. PostgreSQL's
//!   `LISTEN/NOTIFY` could wake them at once instead; that is a later optimisation, polling
//!   stays as the fallback (and is all SQLite has).
//!
//! Time comes from a [`Clock`]: tests move it instead of sleeping. Handlers must be safe to run
//! twice: a worker that dies after the work but before recording it leaves the job to run again.
//!
//! See docs/notifications.md.

mod worker;

pub use worker::{
    run_worker, spawn_worker, work_one, Handler, JobFailure, Outcome, WorkerConfig, WorkerHandle,
};

use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use urad_core::Clock;
use urad_store::statement::{Row, Statement};
use urad_store::{sql, Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("job {id} has the unknown state `{state}`")]
    UnknownState { id: String, state: String },
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for its `run_at`.
    Pending,
    /// Claimed by a worker until `locked_until`.
    Running,
    Done,
    /// Gave up: `max_attempts` attempts failed, or one failed for good. Kept until resent.
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [
        JobState::Pending,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
    ];

    /// As stored in `job.state`.
    pub fn code(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for JobState {
    type Err = urad_core::UnknownValue;
    fn from_str(s: &str) -> Result<JobState, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.code() == s)
            .ok_or_else(|| urad_core::UnknownValue {
                kind: "job state",
                value: s.to_owned(),
                allowed: "pending, running, done, failed".into(),
            })
    }
}

/// Attempts a job gets unless its [`NewJob::max_attempts`] says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 10;

/// A job to enqueue: `NewJob::new("email", "notice", &payload)`.
#[derive(Clone, Debug)]
pub struct NewJob {
    id: String,
    queue: String,
    kind: String,
    payload: String,
    dedup_key: Option<String>,
    max_attempts: i64,
    not_before: Option<i64>,
}

impl NewJob {
    /// A job of `kind` on `queue`; the handler reads `payload` back with [`Job::payload`].
    pub fn new(queue: &str, kind: &str, payload: &serde_json::Value) -> NewJob {
        NewJob {
            id: new_id(),
            queue: queue.to_owned(),
            kind: kind.to_owned(),
            payload: payload.to_string(),
            dedup_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            not_before: None,
        }
    }

    /// The same key enqueued again — in any state, also after the first is done — adds no
    /// job: e.g. `handoff:decision:<id>`. Unique across all queues.
    pub fn dedup_key(mut self, key: impl Into<String>) -> NewJob {
        self.dedup_key = Some(key.into());
        self
    }

    /// Attempts before the job is `failed` (at least 1).
    pub fn max_attempts(mut self, attempts: i64) -> NewJob {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Not to run before this instant (Unix seconds); default: at once.
    pub fn not_before(mut self, at: i64) -> NewJob {
        self.not_before = Some(at);
        self
    }

    /// The id the job will have (unless its dedup key was taken: then no job is added).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The statement that enqueues `job`, for the caller's [`Db::write`] batch, so that the job is
/// committed together with the change that causes it. With a dedup key already taken it adds
/// nothing (its [`urad_store::statement::Written::changed`] is 0) and the batch goes on.
pub fn enqueue(job: &NewJob, clock: &dyn Clock) -> Statement {
    let now = clock.now();
    sql(
        "INSERT INTO job (id, queue, kind, payload, dedup_key, state, attempts, max_attempts, \
         run_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $8) \
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(&job.id)
    .bind(&job.queue)
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.dedup_key.clone())
    .bind(job.max_attempts)
    .bind(job.not_before.unwrap_or(now))
    .bind(now)
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Job {
    pub id: String,
    pub queue: String,
    pub kind: String,
    /// JSON, as given to [`NewJob::new`].
    pub payload: String,
    pub dedup_key: Option<String>,
    pub state: JobState,
    /// Attempts started so far (the running one included).
    pub attempts: i64,
    pub max_attempts: i64,
    /// When it is due (pending), or was last due.
    pub run_at: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
    /// What went wrong in the last failed attempt, if one did.
    pub last_error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

macro_rules! job_columns {
    () => {
        "id, queue, kind, payload, dedup_key, state, attempts, max_attempts, run_at, locked_by, \
         locked_until, last_error, created_at, finished_at"
    };
}

impl Job {
    fn from_row(row: &Row) -> Result<Job, JobError> {
        let id: String = row.get("id")?;
        let state: String = row.get("state")?;
        let state = state.parse().map_err(|_| JobError::UnknownState {
            id: id.clone(),
            state,
        })?;
        Ok(Job {
            queue: row.get("queue")?,
            kind: row.get("kind")?,
            payload: row.get("payload")?,
            dedup_key: row.get("dedup_key")?,
            state,
            attempts: row.get("attempts")?,
            max_attempts: row.get("max_attempts")?,
            run_at: row.get("run_at")?,
            locked_by: row.get("locked_by")?,
            locked_until: row.get("locked_until")?,
            last_error: row.get("last_error")?,
            created_at: row.get("created_at")?,
            finished_at: row.get("finished_at")?,
            id,
        })
    }

    /// The payload as `T`.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

/// A running job's claim, which only its worker holds: the later writes of the attempt
/// ([`complete`], [`retry_later`], [`give_up`], [`extend_lease`]) change the job only while
/// the claim is still its own (same worker, same attempt, still running).
#[derive(Clone, Debug)]
pub struct Claimed {
    pub job: Job,
    worker: String,
}

impl Claimed {
    pub fn worker(&self) -> &str {
        &self.worker
    }
}

/// Releases the jobs of `queue` whose lease ran out before `now` (their worker died or hung):
/// back to pending, due at once, or `failed` if that was their last attempt.
fn release_expired(queue: &str, now: i64) -> Statement {
    sql("UPDATE job SET \
         state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END, \
         finished_at = CASE WHEN attempts >= max_attempts THEN $2 ELSE NULL END, \
         run_at = $2, locked_by = NULL, locked_until = NULL, \
         last_error = 'the attempt did not finish within its lease (its worker stopped or hung)' \
         WHERE queue = $1 AND state = 'running' AND locked_until <= $2")
    .bind(queue)
    .bind(now)
}

/// Claims the oldest due job of `queue` for `worker` until `now + lease_secs`, counting the
/// attempt; `None` when no job is due (or other workers took the ones this one picked, three
/// times in a row: the caller polls again). Jobs whose lease has run out are released first.
///
/// One statement, the same on both engines:
///
/// ```sql
/// UPDATE job SET state = 'running', … WHERE id = (SELECT id … AND state = 'pending'
///     AND run_at <= now ORDER BY run_at, id LIMIT 1) AND state = 'pending' AND run_at <= now
/// ```
///
/// On SQLite writes are serialised (one writer, `BEGIN IMMEDIATE`), so the statement is
/// atomic. On PostgreSQL two transactions can both pick the same id in the subquery, which
/// reads a snapshot; the second then waits for the first's row lock, and when the first
/// commits PostgreSQL evaluates the outer `WHERE` again on the row as it now is (READ
/// COMMITTED). That is why the conditions are repeated there: the job is running now, the
/// second update changes nothing, and that worker tries again. Without them both would
/// "claim" it. The concurrent test in crates/urad/tests/it/jobs.rs runs claimers in several
/// processes' worth of pools against one database.
pub async fn claim(
    db: &Db,
    clock: &dyn Clock,
    queue: &str,
    worker: &str,
    lease_secs: i64,
) -> Result<Option<Claimed>, JobError> {
    let now = clock.now();
    // A claim lost to another worker is tried again at once, a few times, rather than after
    // the caller's next poll.
    for _ in 0..CLAIM_TRIES {
        // Most polls find nothing: ask a reader first, so that an idle queue costs no write.
        let due = db
            .fetch_optional(
                sql("SELECT id FROM job WHERE queue = $1 \
                     AND ((state = 'pending' AND run_at <= $2) \
                     OR (state = 'running' AND locked_until <= $2)) LIMIT 1")
                .bind(queue)
                .bind(now),
            )
            .await?;
        if due.is_none() {
            return Ok(None);
        }
        let written = db
            .write([
                release_expired(queue, now),
                sql(concat!(
                    "UPDATE job SET state = 'running', attempts = attempts + 1, locked_by = $3, \
                     locked_until = $4 WHERE id = (SELECT id FROM job WHERE queue = $1 \
                     AND state = 'pending' AND run_at <= $2 ORDER BY run_at, id LIMIT 1) \
                     AND queue = $1 AND state = 'pending' AND run_at <= $2 RETURNING ",
                    job_columns!()
                ))
                .bind(queue)
                .bind(now)
                .bind(worker)
                .bind(now + lease_secs.max(1)),
            ])
            .await?;
        if let Some(row) = written.get(1).and_then(|w| w.rows.first()) {
            return Ok(Some(Claimed {
                job: Job::from_row(row)?,
                worker: worker.to_owned(),
            }));
        }
    }
    Ok(None)
}

/// How often [`claim`] tries again at once when another worker took the job it picked.
const CLAIM_TRIES: usize = 3;

/// The condition under which a write of an attempt may change its job: the claim is still
/// this one. `$1` id, `$2` worker, `$3` attempt.
macro_rules! still_claimed {
    () => {
        " WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempts = $3"
    };
}

/// The longest `last_error` kept.
const ERROR_MAX_CHARS: usize = 2000;

fn truncate(error: &str) -> String {
    match error.char_indices().nth(ERROR_MAX_CHARS) {
        Some((i, _)) => format!("{}…", &error[..i]),
        None => error.to_owned(),
    }
}

/// Records that the attempt succeeded. `false`: the claim was lost (the lease ran out and
/// the job was released), so the job will run again — handlers must be safe to run twice.
pub async fn complete(db: &Db, clock: &dyn Clock, claimed: &Claimed) -> Result<bool, JobError> {
    let written = db
        .write_one(
            sql(concat!(
                "UPDATE job SET state = 'done', finished_at = $4, locked_by = NULL, \
                 locked_until = NULL",
                still_claimed!()
            ))
            .bind(&claimed.job.id)
            .bind(&claimed.worker)
            .bind(claimed.job.attempts)
            .bind(clock.now()),
        )
        .await?;
    Ok(written.changed == 1)
}

/// Records a failed attempt and puts the job back, due at `run_at`. `false`: the claim was lost.
pub async fn retry_later(
    db: &Db,
    claimed: &Claimed,
    run_at: i64,
    error: &str,
) -> Result<bool, JobError> {
    let written = db
        .write_one(
            sql(concat!(
                "UPDATE job SET state = 'pending', run_at = $4, last_error = $5, \
                 locked_by = NULL, locked_until = NULL",
                still_claimed!()
            ))
            .bind(&claimed.job.id)
            .bind(&claimed.worker)
            .bind(claimed.job.attempts)
            .bind(run_at)
            .bind(truncate(error)),
        )
        .await?;
    Ok(written.changed == 1)
}

/// Records a failed attempt after which the job is `failed` (its last, or one that cannot
/// succeed). `false`: the claim was lost.
pub async fn give_up(
    db: &Db,
    clock: &dyn Clock,
    claimed: &Claimed,
    error: &str,
) -> Result<bool, JobError> {
    let written = db
        .write_one(
            sql(concat!(
                "UPDATE job SET state = 'failed', finished_at = $4, last_error = $5, \
                 locked_by = NULL, locked_until = NULL",
                still_claimed!()
            ))
            .bind(&claimed.job.id)
            .bind(&claimed.worker)
            .bind(claimed.job.attempts)
            .bind(clock.now())
            .bind(truncate(error)),
        )
        .await?;
    Ok(written.changed == 1)
}

/// Extends the lease of a running attempt to `now + lease_secs`. `false`: the claim was lost.
pub async fn extend_lease(
    db: &Db,
    clock: &dyn Clock,
    claimed: &Claimed,
    lease_secs: i64,
) -> Result<bool, JobError> {
    let written = db
        .write_one(
            sql(concat!(
                "UPDATE job SET locked_until = $4",
                still_claimed!()
            ))
            .bind(&claimed.job.id)
            .bind(&claimed.worker)
            .bind(claimed.job.attempts)
            .bind(clock.now() + lease_secs.max(1)),
        )
        .await?;
    Ok(written.changed == 1)
}

/// Puts a failed job back to pending, due at once, with its attempts counted from zero again
/// (its last error stays until the next attempt). `false`: no such job, or it is not failed.
pub async fn resend(db: &Db, clock: &dyn Clock, id: &str) -> Result<bool, JobError> {
    let written = db
        .write_one(
            sql(
                "UPDATE job SET state = 'pending', attempts = 0, run_at = $2, finished_at = NULL \
                 WHERE id = $1 AND state = 'failed'",
            )
            .bind(id)
            .bind(clock.now()),
        )
        .await?;
    Ok(written.changed == 1)
}

/// One job.
pub async fn get(db: &Db, id: &str) -> Result<Option<Job>, JobError> {
    db.fetch_optional(
        sql(concat!(
            "SELECT ",
            job_columns!(),
            " FROM job WHERE id = $1"
        ))
        .bind(id),
    )
    .await?
    .as_ref()
    .map(Job::from_row)
    .transpose()
}

/// The jobs of `queue`, in `state` if given, newest first: the queue page.
pub async fn list(
    db: &Db,
    queue: &str,
    state: Option<JobState>,
    limit: i64,
) -> Result<Vec<Job>, JobError> {
    let rows = db
        .fetch_all(
            sql(concat!(
                "SELECT ",
                job_columns!(),
                " FROM job WHERE queue = $1 AND ($2 = '' OR state = $2) \
                 ORDER BY created_at DESC, id DESC LIMIT $3"
            ))
            .bind(queue)
            .bind(state.map_or("", JobState::code))
            .bind(limit),
        )
        .await?;
    rows.iter().map(Job::from_row).collect()
}

/// How many jobs of a queue are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

impl Counts {
    pub fn get(&self, state: JobState) -> i64 {
        match state {
            JobState::Pending => self.pending,
            JobState::Running => self.running,
            JobState::Done => self.done,
            JobState::Failed => self.failed,
        }
    }
}

/// The jobs of `queue` in each state.
pub async fn counts(db: &Db, queue: &str) -> Result<Counts, JobError> {
    let rows = db
        .fetch_all(
            sql("SELECT state, COUNT(*) AS n FROM job WHERE queue = $1 GROUP BY state").bind(queue),
        )
        .await?;
    let mut counts = Counts::default();
    for row in &rows {
        let n: i64 = row.get("n")?;
        match row.get::<String>("state")?.parse() {
            Ok(JobState::Pending) => counts.pending = n,
            Ok(JobState::Running) => counts.running = n,
            Ok(JobState::Done) => counts.done = n,
            Ok(JobState::Failed) => counts.failed = n,
            Err(_) => {}
        }
    }
    Ok(counts)
}

/// Deletes the done jobs of `queue` finished before `before`; returns how many. Their dedup
/// keys go with them: only purge what can no longer be enqueued again.
pub async fn purge_done(db: &Db, queue: &str, before: i64) -> Result<u64, JobError> {
    let written = db
        .write_one(
            sql("DELETE FROM job WHERE queue = $1 AND state = 'done' AND finished_at < $2")
                .bind(queue)
                .bind(before),
        )
        .await?;
    Ok(written.changed)
}

/// How long a failed attempt's job waits before the next: `base_secs · 2^(attempt − 1)`,
/// at most `max_delay_secs`, plus up to a tenth more at random with `jitter` (so that jobs
/// that failed together — a mail server down — do not all come back in the same second).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base_secs: i64,
    pub max_delay_secs: i64,
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min, 4 min … at most an hour.
    fn default() -> RetryPolicy {
        RetryPolicy {
            base_secs: 30,
            max_delay_secs: 3600,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// The wait, in seconds, after the failed attempt number `attempt` (1 for the first).
    pub fn delay(&self, attempt: i64) -> i64 {
        let base = self.base_secs.max(1);
        let cap = self.max_delay_secs.max(base);
        let doublings = (attempt.max(1) - 1).min(62) as u32;
        let delay = base.checked_mul(1i64 << doublings).unwrap_or(cap).min(cap);
        if self.jitter {
            let spread = delay / 10;
            if spread > 0 {
                let r = rand_core::RngCore::next_u64(&mut rand_core::OsRng);
                return delay + (r % (spread as u64 + 1)) as i64;
            }
        }
        delay
    }
}

/// A random id that sorts in the order this process made them: nanoseconds since the epoch
/// (never the same twice in a process), then random digits so that processes differ.
pub(crate) fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut last = LAST.load(Ordering::Relaxed);
    let stamp = loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(seen) => last = seen,
        }
    };
    let random = rand_core::RngCore::next_u64(&mut rand_core::OsRng);
    format!("{stamp:016x}{random:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_at_most_a_tenth_of_jitter() {
        let exact = RetryPolicy {
            base_secs: 30,
            max_delay_secs: 3600,
            jitter: false,
        };
        let delays: Vec<i64> = (1..=9).map(|a| exact.delay(a)).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(exact.delay(0), 30);
        assert_eq!(exact.delay(1000), 3600, "no overflow");
        let jittered = RetryPolicy {
            jitter: true,
            ..exact
        };
        for attempt in 1..=12 {
            let d = jittered.delay(attempt);
            let plain = exact.delay(attempt);
            assert!(d >= plain && d <= plain + plain / 10, "{attempt}: {d}");
        }
    }

    #[test]
    fn states_round_trip_and_ids_sort_in_order_made() {
        for state in JobState::ALL {
            assert_eq!(state.code().parse::<JobState>().unwrap(), state);
        }
        assert!("lost".parse::<JobState>().is_err());
        let ids: Vec<String> = (0..100).map(|_| new_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(ids[0].len(), 32);
    }

    #[test]
    fn long_errors_are_cut() {
        assert_eq!(truncate("short"), "short");
        let long = "č".repeat(ERROR_MAX_CHARS + 5);
        let cut = truncate(&long);
        assert_eq!(cut.chars().count(), ERROR_MAX_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
