//! Group commit for SQLite: the short writes of many requests share one transaction.
//!
//! SQLite has one writer, and every commit appends each page it changed to the WAL, so under
//! load the commits, not the statements, bound how many sign-ins and token grants a process
//! serves (docs/benchmarks.md). Here one thread owns the writing connection: it takes every
//! write waiting in its queue, runs them one after another inside a single
//! `BEGIN IMMEDIATE … COMMIT`, each write of several statements in its own savepoint so that
//! one failing write leaves the others intact, and answers them all after the commit —
//! nobody hears "done" before the data is committed. When writes come one at a time, a batch
//! is one write and nothing waits for company.
//!
//! PostgreSQL has many writers and needs none of this: there [`crate::Db::write`] runs the
//! write in a transaction of its own.

use crate::sqlite::run;
use crate::statement::{Statement, Written};
use crate::StoreError;
use rusqlite::Connection;
use std::sync::mpsc::{self, SyncSender};
use tokio::sync::oneshot;

/// The most writes committed together; bounds how long the first of them waits.
const MAX_BATCH: usize = 128;

type Answer = oneshot::Sender<Result<Vec<Written>, StoreError>>;

struct Job {
    statements: Vec<Statement>,
    answer: Answer,
}

/// The queue in front of the writer thread.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer thread with its connection; it pokes `checkpointer` after each
    /// commit. It ends when the handle is dropped.
    pub(crate) fn start(
        conn: Connection,
        checkpointer: SyncSender<()>,
    ) -> std::io::Result<GroupCommit> {
        let (queue, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("urad-db-writer".into())
            .spawn(move || writer(conn, jobs, checkpointer))?;
        Ok(GroupCommit { queue })
    }

    pub(crate) async fn write(
        &self,
        statements: Vec<Statement>,
    ) -> Result<Vec<Written>, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Job { statements, answer })
            .map_err(|_| StoreError::WriterStopped)?;
        answered.await.map_err(|_| StoreError::WriterStopped)?
    }
}

fn writer(conn: Connection, jobs: mpsc::Receiver<Job>, checkpointer: SyncSender<()>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit(&conn, &mut batch);
        let _ = checkpointer.try_send(());
    }
}

/// Runs a batch in one transaction and answers every write in it. A batch holding a durable
/// write ([`Statement::durable`]) commits with the WAL synced to the disk.
fn commit(conn: &Connection, batch: &mut Vec<Job>) {
    let durable = batch
        .iter()
        .any(|job| job.statements.iter().any(|s| s.durable));
    let begin = if durable {
        "PRAGMA synchronous = FULL; BEGIN IMMEDIATE"
    } else {
        "BEGIN IMMEDIATE"
    };
    if let Err(e) = conn.execute_batch(begin) {
        tracing::error!(error = %e, "a group commit could not begin");
        let e = e.to_string();
        for job in batch.drain(..) {
            let _ = job.answer.send(Err(StoreError::NotCommitted(e.clone())));
        }
        return;
    }
    let mut done = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        let result = run_job(conn, &job.statements);
        done.push((job.answer, result));
    }
    let committed = conn.execute_batch("COMMIT");
    if let Err(e) = &committed {
        tracing::error!(error = %e, "a group commit failed");
        let _ = conn.execute_batch("ROLLBACK");
    }
    if durable {
        if let Err(e) = conn.execute_batch("PRAGMA synchronous = NORMAL") {
            tracing::error!(error = %e, "cannot return the writer to synchronous = NORMAL");
        }
    }
    for (answer, result) in done {
        let _ = answer.send(match (&committed, result) {
            (Ok(()), result) => result,
            (Err(e), Ok(_)) => Err(StoreError::NotCommitted(e.to_string())),
            (Err(_), Err(e)) => Err(e),
        });
    }
}

/// One write: its statements in order, in a savepoint when there are several (one statement
/// that fails is undone by SQLite alone). A statement marked `only_if_previous_changed` ends
/// the write when the one before it changed nothing.
fn run_job(conn: &Connection, statements: &[Statement]) -> Result<Vec<Written>, StoreError> {
    let savepoint = statements.len() > 1;
    if savepoint {
        conn.execute_batch("SAVEPOINT w")?;
    }
    let mut written: Vec<Written> = Vec::with_capacity(statements.len());
    let mut result = Ok(());
    for statement in statements {
        if statement.only_if_previous_changed && written.last().is_some_and(|w| w.changed == 0) {
            break;
        }
        match run(conn, statement) {
            Ok(w) => written.push(w),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if savepoint {
        let end = if result.is_ok() {
            "RELEASE w"
        } else {
            "ROLLBACK TO w; RELEASE w"
        };
        conn.execute_batch(end)?;
    }
    result.map(|()| written)
}
