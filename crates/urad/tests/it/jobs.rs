//! The durable job queue (urad-jobs) on both databases: enqueued with the change that causes
//! it or not at all, once per dedup key, claimed with a lease by one worker at a time (also
//! by several processes on one database at once), retried with backoff, failed and resent.
//! Time is a ManualClock: the tests move it instead of sleeping.

use crate::harness::{fresh_database, Backend};
use serde_json::json;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use urad::StoreArgs;
use urad_core::{Clock, ManualClock};
use urad_jobs::{
    self as jobs, Job, JobFailure, JobState, NewJob, Outcome, RetryPolicy, WorkerConfig,
};
use urad_store::{sql, Db};

/// 2027-01-04 09:00 UTC.
pub(crate) const T0: i64 = 1_799_053_200;

crate::for_both_backends!(
    a_job_commits_with_the_change_that_causes_it_or_not_at_all_and_once_per_key,
    failed_attempts_are_retried_with_backoff_until_failed_and_resend_runs_them_again,
    a_job_whose_worker_died_is_taken_again_after_its_lease,
    claimers_in_several_processes_never_run_one_job_twice,
    the_worker_loop_runs_due_jobs_and_stops_between_them,
);

/// `n` handles on one fresh database, as `n` processes would have.
pub(crate) async fn open_handles(backend: Backend, n: usize) -> (Vec<Db>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreArgs {
        data_dir: dir.path().join("data"),
        database_url: fresh_database(backend).await,
    };
    let mut handles = Vec::new();
    for _ in 0..n {
        handles.push(store.open().await.unwrap());
    }
    (handles, dir)
}

/// Waits (in real time, ten seconds at most) until `done` says so.
pub(crate) async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn job(db: &Db, id: &str) -> Job {
    jobs::get(db, id).await.unwrap().expect("the job exists")
}

fn exact_backoff(base_secs: i64, max_delay_secs: i64) -> RetryPolicy {
    RetryPolicy {
        base_secs,
        max_delay_secs,
        jitter: false,
    }
}

async fn a_job_commits_with_the_change_that_causes_it_or_not_at_all_and_once_per_key(
    backend: Backend,
) {
    let (mut dbs, _dir) = open_handles(backend, 1).await;
    let db = dbs.pop().unwrap();
    let clock = ManualClock::at(T0);
    db.write_one(sql("CREATE TABLE decision_made (id TEXT PRIMARY KEY)"))
        .await
        .unwrap();

    // The change and its job in one write.
    let handoff = NewJob::new("handoff", "decision", &json!({ "decision": "d1" }));
    db.write([
        sql("INSERT INTO decision_made (id) VALUES ('d1')"),
        jobs::enqueue(&handoff, &clock),
    ])
    .await
    .unwrap();
    let stored = job(&db, handoff.id()).await;
    assert_eq!(stored.state, JobState::Pending);
    assert_eq!(stored.queue, "handoff");
    assert_eq!(stored.kind, "decision");
    assert_eq!(
        stored.payload::<serde_json::Value>().unwrap(),
        json!({ "decision": "d1" })
    );
    assert_eq!((stored.attempts, stored.max_attempts), (0, 10));
    assert_eq!((stored.run_at, stored.created_at), (T0, T0));
    assert_eq!(stored.locked_by, None);

    // A change that fails takes its job with it, wherever the job stands in the write.
    let lost = NewJob::new("handoff", "decision", &json!({ "decision": "d1" }));
    assert!(db
        .write([
            jobs::enqueue(&lost, &clock),
            sql("INSERT INTO decision_made (id) VALUES ('d1')"),
        ])
        .await
        .is_err());
    assert!(jobs::get(&db, lost.id()).await.unwrap().is_none());

    // Once per dedup key: in one write, in later ones, and after the job is done.
    let first =
        NewJob::new("handoff", "case", &json!({ "case": "c1" })).dedup_key("handoff:case:c1");
    let again =
        NewJob::new("handoff", "case", &json!({ "case": "c1" })).dedup_key("handoff:case:c1");
    let written = db
        .write([jobs::enqueue(&first, &clock), jobs::enqueue(&again, &clock)])
        .await
        .unwrap();
    assert_eq!((written[0].changed, written[1].changed), (1, 0));
    assert!(jobs::get(&db, again.id()).await.unwrap().is_none());
    let stored = job(&db, first.id()).await;
    assert_eq!(stored.dedup_key.as_deref(), Some("handoff:case:c1"));
    // d1's job was enqueued first and is due as early: the claim takes the oldest first.
    let claimed = jobs::claim(&db, &clock, "handoff", "w", 60)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, handoff.id());
    assert!(jobs::complete(&db, &clock, &claimed).await.unwrap());
    let claimed = jobs::claim(&db, &clock, "handoff", "w", 60)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, first.id());
    assert!(jobs::complete(&db, &clock, &claimed).await.unwrap());
    let later = NewJob::new("handoff", "case", &json!({})).dedup_key("handoff:case:c1");
    assert_eq!(
        db.write_one(jobs::enqueue(&later, &clock))
            .await
            .unwrap()
            .changed,
        0
    );
    let counts = jobs::counts(&db, "handoff").await.unwrap();
    assert_eq!(
        counts,
        jobs::Counts {
            pending: 0,
            running: 0,
            done: 2,
            failed: 0
        }
    );
    // Queues are separate.
    assert_eq!(
        jobs::counts(&db, "email").await.unwrap(),
        jobs::Counts::default()
    );
    assert!(jobs::claim(&db, &clock, "email", "w", 60)
        .await
        .unwrap()
        .is_none());

    // Done jobs can be purged; their keys go with them.
    clock.advance(86_400);
    assert_eq!(jobs::purge_done(&db, "handoff", T0 + 1).await.unwrap(), 2);
    assert_eq!(
        db.write_one(jobs::enqueue(&later, &clock))
            .await
            .unwrap()
            .changed,
        1
    );
}

async fn failed_attempts_are_retried_with_backoff_until_failed_and_resend_runs_them_again(
    backend: Backend,
) {
    let (mut dbs, _dir) = open_handles(backend, 1).await;
    let db = dbs.pop().unwrap();
    let clock = ManualClock::at(T0);
    let config = WorkerConfig {
        retry: exact_backoff(10, 40),
        ..WorkerConfig::new("handoff")
    };
    let down = |_job: Job| async { Err::<(), _>(JobFailure::retry("the records office is down")) };
    let up = |_job: Job| async { Ok::<(), JobFailure>(()) };

    let handoff = NewJob::new("handoff", "case", &json!({ "case": "c1" })).max_attempts(4);
    db.write_one(jobs::enqueue(&handoff, &clock)).await.unwrap();
    let id = handoff.id().to_owned();

    // 10 s, 20 s, 40 s, and the fourth attempt is the last.
    let mut expected_run_at = T0;
    for (attempt, delay) in [(1, 10), (2, 20), (3, 40)] {
        let outcome = jobs::work_one(&db, &clock, &config, &down).await.unwrap();
        expected_run_at = clock.now() + delay;
        assert_eq!(
            outcome,
            Some(Outcome::Retry {
                id: id.clone(),
                run_at: expected_run_at,
                error: "the records office is down".into()
            })
        );
        let stored = job(&db, &id).await;
        assert_eq!(stored.state, JobState::Pending);
        assert_eq!(stored.attempts, attempt);
        assert_eq!(stored.run_at, expected_run_at);
        assert_eq!(
            stored.last_error.as_deref(),
            Some("the records office is down")
        );
        assert_eq!((stored.locked_by, stored.locked_until), (None, None));
        // Not due yet: nothing to do, a second early.
        clock.advance(delay - 1);
        assert_eq!(
            jobs::work_one(&db, &clock, &config, &down).await.unwrap(),
            None
        );
        clock.advance(1);
    }
    assert_eq!(clock.now(), expected_run_at);
    let outcome = jobs::work_one(&db, &clock, &config, &down).await.unwrap();
    assert!(
        matches!(outcome, Some(Outcome::Failed { .. })),
        "{outcome:?}"
    );
    let failed = job(&db, &id).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.attempts, 4);
    assert_eq!(failed.finished_at, Some(clock.now()));
    assert_eq!(
        failed.last_error.as_deref(),
        Some("the records office is down")
    );

    // Failed jobs are never claimed again by themselves, and they are visible.
    clock.advance(86_400);
    assert_eq!(
        jobs::work_one(&db, &clock, &config, &up).await.unwrap(),
        None
    );
    assert_eq!(jobs::counts(&db, "handoff").await.unwrap().failed, 1);
    let shown = jobs::list(&db, "handoff", Some(JobState::Failed), 50)
        .await
        .unwrap();
    assert_eq!(
        shown.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );
    assert!(jobs::list(&db, "handoff", Some(JobState::Pending), 50)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(jobs::list(&db, "handoff", None, 50).await.unwrap().len(), 1);

    // Resent: pending again, due now, its attempts counted afresh.
    assert!(jobs::resend(&db, &clock, &id).await.unwrap());
    assert!(
        !jobs::resend(&db, &clock, &id).await.unwrap(),
        "only failed jobs"
    );
    assert!(!jobs::resend(&db, &clock, "no-such-job").await.unwrap());
    let resent = job(&db, &id).await;
    assert_eq!(resent.state, JobState::Pending);
    assert_eq!(
        (resent.attempts, resent.run_at, resent.finished_at),
        (0, clock.now(), None)
    );
    assert_eq!(
        jobs::work_one(&db, &clock, &config, &up).await.unwrap(),
        Some(Outcome::Done { id: id.clone() })
    );
    let done = job(&db, &id).await;
    assert_eq!(done.state, JobState::Done);
    assert_eq!((done.attempts, done.finished_at), (1, Some(clock.now())));
    assert!(
        !jobs::resend(&db, &clock, &id).await.unwrap(),
        "done stays done"
    );

    // A failure that cannot pass fails the job at once.
    let refused = NewJob::new("handoff", "case", &json!({}));
    db.write_one(jobs::enqueue(&refused, &clock)).await.unwrap();
    let permanent = |_job: Job| async { Err::<(), _>(JobFailure::permanent("no such file plan")) };
    let outcome = jobs::work_one(&db, &clock, &config, &permanent)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Some(Outcome::Failed {
            id: refused.id().to_owned(),
            error: "no such file plan".into()
        })
    );
    assert_eq!(job(&db, refused.id()).await.attempts, 1);

    // Not before its time; and an attempt that takes too long has failed.
    let later = NewJob::new("handoff", "case", &json!({})).not_before(clock.now() + 100);
    db.write_one(jobs::enqueue(&later, &clock)).await.unwrap();
    assert_eq!(
        jobs::work_one(&db, &clock, &config, &up).await.unwrap(),
        None
    );
    clock.advance(100);
    let slow = |_job: Job| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok::<(), JobFailure>(())
    };
    let impatient = WorkerConfig {
        attempt_timeout: Duration::from_millis(50),
        ..config.clone()
    };
    let outcome = jobs::work_one(&db, &clock, &impatient, &slow)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Some(Outcome::Retry { error, .. }) if error.contains("longer than")),
        "{outcome:?}"
    );
}

async fn a_job_whose_worker_died_is_taken_again_after_its_lease(backend: Backend) {
    let (mut dbs, _dir) = open_handles(backend, 1).await;
    let db = dbs.pop().unwrap();
    let clock = ManualClock::at(T0);
    let handoff = NewJob::new("handoff", "case", &json!({})).max_attempts(3);
    db.write_one(jobs::enqueue(&handoff, &clock)).await.unwrap();

    let a = jobs::claim(&db, &clock, "handoff", "worker-a", 60)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.job.state, JobState::Running);
    assert_eq!(a.job.attempts, 1);
    assert_eq!(a.job.locked_by.as_deref(), Some("worker-a"));
    assert_eq!(a.job.locked_until, Some(T0 + 60));
    assert!(jobs::claim(&db, &clock, "handoff", "worker-b", 60)
        .await
        .unwrap()
        .is_none());
    // A working worker extends its lease.
    clock.advance(30);
    assert!(jobs::extend_lease(&db, &clock, &a, 60).await.unwrap());
    assert_eq!(job(&db, handoff.id()).await.locked_until, Some(T0 + 90));
    clock.advance(59);
    assert!(jobs::claim(&db, &clock, "handoff", "worker-b", 60)
        .await
        .unwrap()
        .is_none());
    // Then worker-a dies: once its lease has run out, worker-b takes the job.
    clock.advance(1);
    let b = jobs::claim(&db, &clock, "handoff", "worker-b", 60)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.job.id, handoff.id());
    assert_eq!(b.job.attempts, 2);
    assert_eq!(b.job.locked_by.as_deref(), Some("worker-b"));
    assert!(b.job.last_error.as_deref().unwrap().contains("lease"));
    // Should worker-a come back after all, it no longer holds the job.
    assert!(!jobs::complete(&db, &clock, &a).await.unwrap());
    assert!(!jobs::retry_later(&db, &a, T0, "late").await.unwrap());
    assert!(!jobs::give_up(&db, &clock, &a, "late").await.unwrap());
    assert!(!jobs::extend_lease(&db, &clock, &a, 60).await.unwrap());
    assert_eq!(
        job(&db, handoff.id()).await.locked_by.as_deref(),
        Some("worker-b")
    );
    assert!(jobs::complete(&db, &clock, &b).await.unwrap());
    assert_eq!(job(&db, handoff.id()).await.state, JobState::Done);

    // A job whose last attempt's worker died has failed: it is not run a fourth time.
    let last = NewJob::new("handoff", "case", &json!({})).max_attempts(1);
    db.write_one(jobs::enqueue(&last, &clock)).await.unwrap();
    assert!(jobs::claim(&db, &clock, "handoff", "worker-a", 60)
        .await
        .unwrap()
        .is_some());
    clock.advance(60);
    assert!(jobs::claim(&db, &clock, "handoff", "worker-b", 60)
        .await
        .unwrap()
        .is_none());
    let failed = job(&db, last.id()).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.finished_at, Some(clock.now()));
    assert!(failed.last_error.unwrap().contains("lease"));
}

async fn claimers_in_several_processes_never_run_one_job_twice(backend: Backend) {
    // Three processes' worth of connections to one database, four claimers on each, all
    // claiming from one queue at once.
    const JOBS: usize = 150;
    let (dbs, _dir) = open_handles(backend, 3).await;
    let clock = Arc::new(ManualClock::at(T0));
    dbs[0]
        .write((0..JOBS).map(|n| {
            jobs::enqueue(
                &NewJob::new("race", "n", &json!({ "n": n })),
                clock.as_ref(),
            )
        }))
        .await
        .unwrap();
    let mut claimers = Vec::new();
    for (p, db) in dbs.iter().enumerate() {
        for w in 0..4 {
            let (db, clock) = (db.clone(), clock.clone());
            claimers.push(tokio::spawn(async move {
                let worker = format!("process-{p}-worker-{w}");
                let (mut ran, mut lost_races) = (Vec::new(), 0);
                loop {
                    match jobs::claim(&db, clock.as_ref(), "race", &worker, 300)
                        .await
                        .unwrap()
                    {
                        Some(claimed) => {
                            assert_eq!(claimed.job.attempts, 1, "claimed twice: {claimed:?}");
                            ran.push(claimed.job.id.clone());
                            tokio::task::yield_now().await;
                            assert!(
                                jobs::complete(&db, clock.as_ref(), &claimed).await.unwrap(),
                                "{worker} lost {}",
                                claimed.job.id
                            );
                        }
                        None => {
                            let counts = jobs::counts(&db, "race").await.unwrap();
                            if counts.pending == 0 {
                                break;
                            }
                            // Other claimers took the jobs this one had picked.
                            lost_races += 1;
                        }
                    }
                }
                (ran, lost_races)
            }));
        }
    }
    let mut ran = Vec::new();
    let mut lost_races = 0;
    for claimer in claimers {
        let (r, l) = claimer.await.unwrap();
        ran.extend(r);
        lost_races += l;
    }
    let unique: BTreeSet<&String> = ran.iter().collect();
    assert_eq!(unique.len(), ran.len(), "a job ran twice");
    assert_eq!(ran.len(), JOBS);
    let counts = jobs::counts(&dbs[1], "race").await.unwrap();
    assert_eq!(
        (counts.done, counts.pending, counts.running),
        (JOBS as i64, 0, 0)
    );
    for j in jobs::list(&dbs[2], "race", None, 1000).await.unwrap() {
        assert_eq!((j.state, j.attempts), (JobState::Done, 1), "{j:?}");
    }
    eprintln!(
        "{backend:?}: {JOBS} jobs, 12 claimers, {lost_races} empty claims while jobs were pending"
    );
}

async fn the_worker_loop_runs_due_jobs_and_stops_between_them(backend: Backend) {
    let (mut dbs, _dir) = open_handles(backend, 1).await;
    let db = dbs.pop().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    let seen = Arc::new(Mutex::new(Vec::<i64>::new()));
    let panicked = Arc::new(AtomicBool::new(false));
    let handler = {
        let (seen, panicked) = (seen.clone(), panicked.clone());
        move |job: Job| {
            let (seen, panicked) = (seen.clone(), panicked.clone());
            async move {
                let n: i64 = job.payload::<serde_json::Value>().unwrap()["n"]
                    .as_i64()
                    .unwrap();
                if n == 2 && !panicked.swap(true, Ordering::SeqCst) {
                    panic!("a bug in the handler (this panic is part of the test)");
                }
                seen.lock().unwrap().push(n);
                Ok::<(), JobFailure>(())
            }
        }
    };
    let config = WorkerConfig {
        poll_interval: Duration::from_millis(10),
        retry: exact_backoff(5, 60),
        ..WorkerConfig::new("work")
    };
    let worker = jobs::spawn_worker(db.clone(), clock.clone(), config, Arc::new(handler));
    let mut ids = Vec::new();
    for n in 1..=3 {
        let job = NewJob::new("work", "n", &json!({ "n": n }));
        ids.push(job.id().to_owned());
        db.write_one(jobs::enqueue(&job, clock.as_ref()))
            .await
            .unwrap();
    }
    let counts = || async { jobs::counts(&db, "work").await.unwrap() };
    eventually(
        "two jobs are done and the one that panicked waits",
        || async {
            let c = counts().await;
            c.done == 2 && c.pending == 1
        },
    )
    .await;
    let retried = job(&db, &ids[1]).await;
    assert_eq!(retried.attempts, 1);
    assert_eq!(retried.run_at, T0 + 5);
    assert!(retried.last_error.unwrap().contains("panicked"));
    // Its time comes.
    clock.advance(5);
    eventually("all three are done", || async { counts().await.done == 3 }).await;
    assert_eq!(*seen.lock().unwrap(), [1, 3, 2]);

    // After shutdown nothing more is taken.
    worker.shutdown().await;
    let after = NewJob::new("work", "n", &json!({ "n": 4 }));
    db.write_one(jobs::enqueue(&after, clock.as_ref()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(job(&db, after.id()).await.state, JobState::Pending);
}
