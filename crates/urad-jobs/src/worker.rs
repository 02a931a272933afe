//! Workers: claim a job of their queue, run its handler while keeping the lease, record the
//! outcome; poll when the queue has nothing due.

use crate::{claim, complete, extend_lease, give_up, retry_later, Claimed, Job, JobError};
use crate::{new_id, RetryPolicy};
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use urad_core::Clock;
use urad_store::Db;

/// Why an attempt failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobFailure {
    pub message: String,
    /// Trying again cannot help (an address the mail server refuses for good, a payload the
    /// handler cannot read): the job is `failed` at once, visible for someone to look at.
    pub permanent: bool,
}

impl JobFailure {
    /// A failure that may pass (a server down, a timeout): retried with backoff.
    pub fn retry(message: impl Into<String>) -> JobFailure {
        JobFailure {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure that will not pass by trying again.
    pub fn permanent(message: impl Into<String>) -> JobFailure {
        JobFailure {
            message: message.into(),
            permanent: true,
        }
    }
}

impl From<String> for JobFailure {
    fn from(message: String) -> JobFailure {
        JobFailure::retry(message)
    }
}

impl From<&str> for JobFailure {
    fn from(message: &str) -> JobFailure {
        JobFailure::retry(message)
    }
}

/// What a job's attempt does. Implemented for closures `Fn(Job) -> impl Future<Output =
/// Result<(), JobFailure>>`. It must be safe to run twice for one job (see the crate's docs).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, job: Job)
        -> Pin<Box<dyn Future<Output = Result<(), JobFailure>> + Send + '_>>;
}

impl<F, Fut> Handler for F
where
    F: Fn(Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobFailure>> + Send + 'static,
{
    fn handle(
        &self,
        job: Job,
    ) -> Pin<Box<dyn Future<Output = Result<(), JobFailure>> + Send + '_>> {
        Box::pin(self(job))
    }
}

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub queue: String,
    /// Who holds the claims (`locked_by`): unique per worker; default: the process id and
    /// random digits.
    pub worker_id: String,
    /// How long a claim lasts without being extended. The worker extends it every third of
    /// it while the handler runs, so this bounds how long a dead worker's job waits.
    pub lease_secs: i64,
    /// How long the worker waits when its queue has nothing due.
    pub poll_interval: Duration,
    /// Longest an attempt may take; then it fails (and is retried).
    pub attempt_timeout: Duration,
    pub retry: RetryPolicy,
}

impl WorkerConfig {
    pub fn new(queue: &str) -> WorkerConfig {
        WorkerConfig {
            queue: queue.to_owned(),
            worker_id: format!("{}-{}", std::process::id(), &new_id()[16..]),
            lease_secs: 300,
            poll_interval: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(600),
            retry: RetryPolicy::default(),
        }
    }
}

/// What became of a claimed job's attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done {
        id: String,
    },
    /// Failed; due again at `run_at`.
    Retry {
        id: String,
        run_at: i64,
        error: String,
    },
    /// Failed for the last time, or for good: the job is `failed`.
    Failed {
        id: String,
        error: String,
    },
    /// The lease ran out during the attempt and the job was released; whatever the attempt
    /// did, the job runs again.
    LeaseLost {
        id: String,
    },
}

/// Claims one due job of the queue and runs it; `None` when none was due.
pub async fn work_one(
    db: &Db,
    clock: &dyn Clock,
    config: &WorkerConfig,
    handler: &dyn Handler,
) -> Result<Option<Outcome>, JobError> {
    let Some(claimed) = claim(
        db,
        clock,
        &config.queue,
        &config.worker_id,
        config.lease_secs,
    )
    .await?
    else {
        return Ok(None);
    };
    let id = claimed.job.id.clone();
    let result = attempt(db, clock, config, handler, &claimed).await;
    let outcome = match result {
        Ok(()) => {
            if complete(db, clock, &claimed).await? {
                Outcome::Done { id }
            } else {
                Outcome::LeaseLost { id }
            }
        }
        Err(failure) => {
            let last = failure.permanent || claimed.job.attempts >= claimed.job.max_attempts;
            if last {
                if give_up(db, clock, &claimed, &failure.message).await? {
                    Outcome::Failed {
                        id,
                        error: failure.message,
                    }
                } else {
                    Outcome::LeaseLost { id }
                }
            } else {
                let run_at = clock.now() + config.retry.delay(claimed.job.attempts);
                if retry_later(db, &claimed, run_at, &failure.message).await? {
                    Outcome::Retry {
                        id,
                        run_at,
                        error: failure.message,
                    }
                } else {
                    Outcome::LeaseLost { id }
                }
            }
        }
    };
    match &outcome {
        Outcome::Done { id } => tracing::debug!(queue = %config.queue, job = %id, "job done"),
        Outcome::Retry { id, run_at, error } => {
            tracing::warn!(queue = %config.queue, job = %id, run_at, error = %error, "job failed; retried later")
        }
        Outcome::Failed { id, error } => {
            tracing::error!(queue = %config.queue, job = %id, error = %error, "job failed for good")
        }
        Outcome::LeaseLost { id } => {
            tracing::warn!(queue = %config.queue, job = %id, "job's lease ran out during its attempt; it runs again")
        }
    }
    Ok(Some(outcome))
}

/// Runs the handler, extending the lease every third of it, within the attempt's timeout.
/// A handler that panics has failed (and is retried).
async fn attempt(
    db: &Db,
    clock: &dyn Clock,
    config: &WorkerConfig,
    handler: &dyn Handler,
    claimed: &Claimed,
) -> Result<(), JobFailure> {
    let work = AssertUnwindSafe(handler.handle(claimed.job.clone())).catch_unwind();
    let work = tokio::time::timeout(config.attempt_timeout, work);
    tokio::pin!(work);
    let every = Duration::from_secs((config.lease_secs.max(3) / 3) as u64);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            result = &mut work => {
                return match result {
                    Ok(Ok(result)) => result,
                    Ok(Err(_panic)) => Err(JobFailure::retry("the job's handler panicked")),
                    Err(_elapsed) => Err(JobFailure::retry(format!(
                        "the attempt took longer than {} s",
                        config.attempt_timeout.as_secs()
                    ))),
                };
            }
            _ = beat.tick() => {
                match extend_lease(db, clock, claimed, config.lease_secs).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(job = %claimed.job.id, "the job's lease was lost"),
                    Err(e) => tracing::warn!(job = %claimed.job.id, error = %e, "cannot extend the job's lease"),
                }
            }
        }
    }
}

/// Works the queue until `shutdown` completes: claims and runs due jobs one after another,
/// and waits `poll_interval` when none is due. A job being run when `shutdown` comes is
/// finished first. Database errors are logged and the loop goes on after a pause.
///
/// Polling is the only wake-up, on both engines; PostgreSQL's `LISTEN/NOTIFY` would let an
/// enqueue wake the workers at once — a later optimisation, with polling as the fallback.
pub async fn run_worker(
    db: Db,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    handler: Arc<dyn Handler>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut stopped = false;
    tracing::info!(queue = %config.queue, worker = %config.worker_id, "job worker started");
    while !stopped {
        // Stop between jobs, never in the middle of one.
        let stop_now =
            std::future::poll_fn(|cx| Poll::Ready(shutdown.as_mut().poll(cx).is_ready()));
        if stop_now.await {
            break;
        }
        match work_one(&db, clock.as_ref(), &config, handler.as_ref()).await {
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(queue = %config.queue, error = %e, "job worker: cannot claim or record a job")
            }
        }
        tokio::select! {
            _ = &mut shutdown => stopped = true,
            _ = tokio::time::sleep(config.poll_interval) => {}
        }
    }
    tracing::info!(queue = %config.queue, worker = %config.worker_id, "job worker stopped");
}

/// A worker running on its own task; [`WorkerHandle::shutdown`] stops it, dropping the handle
/// leaves it running.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Stops the worker after the job it is running, if any, and waits for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// [`run_worker`] on a task of its own (needs a tokio runtime).
pub fn spawn_worker(
    db: Db,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    handler: Arc<dyn Handler>,
) -> WorkerHandle {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run_worker(db, clock, config, handler, async {
        // A handle dropped without `shutdown` detaches the worker (as a dropped JoinHandle
        // does): it runs until the runtime ends.
        if stopped.await.is_err() {
            std::future::pending::<()>().await;
        }
    }));
    WorkerHandle { stop, task }
}
