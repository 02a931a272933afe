//! Group commit for SQLite: the short writes of many requests share one transaction.
//!
//! SQLite has one writer. Every commit appends each page it changed to the WAL, and every
//! statement sent through sqlx is a hand-off to the connection's thread and back, so under load
//! the commits, not the statements, bound how many sign-ins and token grants a process serves
//! (docs/benchmarks.md). Here one task owns the writes: it takes every write waiting in its
//! queue, runs them one after another inside a single `BEGIN IMMEDIATE … COMMIT`, each in its
//! own savepoint so that one failing write leaves the others intact, and answers them all
//! after the commit — nobody hears "done" before the data is committed. When writes come one
//! at a time, a batch is one write and nothing waits for company.
//!
//! PostgreSQL has many writers and needs none of this: there [`crate::Db::write`] runs the
//! write in a transaction of its own.

use crate::{AnyConnection, BoxFuture, WriteWork};
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Executor};
use tokio::sync::{mpsc, oneshot};

/// The most writes committed together; bounds how long the first of them waits.
const MAX_BATCH: usize = 128;

/// Tells a write how its batch ended: `None` when committed, the error when not.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

/// A write, type-erased: runs on the writer's connection and says whether it succeeded
/// (so the batch can undo it alone) and how to answer its caller after the commit.
struct Job {
    /// Runs one statement only, which SQLite undoes alone if it fails: no savepoint needed.
    single_statement: bool,
    run: RunJob,
}

type RunJob =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, (bool, Deliver)> + Send>;

/// The queue in front of the writer task.
#[derive(Clone, Debug)]
pub(crate) struct GroupCommit {
    queue: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the writer: a thread of its own with its own connection, so that its turns do
    /// not wait behind the requests queued on the server's runtime, and no connection pool
    /// stands between it and SQLite. It ends when every handle is dropped.
    pub(crate) fn start(
        options: AnyConnectOptions,
        pragmas: &'static str,
    ) -> std::io::Result<GroupCommit> {
        let (queue, jobs) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("urad-db-writer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the database writer");
                runtime.block_on(run(options, pragmas, jobs));
            })?;
        Ok(GroupCommit { queue })
    }

    pub(crate) async fn write<T, F>(
        &self,
        single_statement: bool,
        work: F,
    ) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: WriteWork<T>,
    {
        let (answer, answered) = oneshot::channel();
        let run: RunJob = Box::new(move |conn| {
            Box::pin(async move {
                let result = work(conn).await;
                let ok = result.is_ok();
                let deliver: Deliver = Box::new(move |commit_error| {
                    let _ = answer.send(match (result, commit_error) {
                        (Ok(value), None) => Ok(value),
                        (Ok(_), Some(e)) => Err(sqlx::Error::Protocol(format!(
                            "the write was not committed: {e}"
                        ))),
                        (Err(e), _) => Err(e),
                    });
                });
                (ok, deliver)
            })
        });
        let job = Job {
            single_statement,
            run,
        };
        self.queue.send(job).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> sqlx::Error {
    sqlx::Error::Protocol("the database writer could not run the write (see the log)".into())
}

async fn run(
    options: AnyConnectOptions,
    pragmas: &'static str,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let mut conn: Option<AnyConnection> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if conn.is_none() {
            match connect(&options, pragmas).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    // The batch is dropped: its callers hear that it could not run.
                    tracing::error!(error = %e, "the database writer cannot connect");
                    batch.clear();
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let (delivers, error) = match commit(c, batch.drain(..)).await {
            Ok(delivers) => (delivers, None),
            Err((delivers, e)) => {
                tracing::error!(error = %e, "a group commit failed");
                // Start again from a fresh connection.
                conn = None;
                (delivers, Some(e.to_string()))
            }
        };
        for deliver in delivers {
            deliver(error.as_deref());
        }
    }
}

async fn connect(options: &AnyConnectOptions, pragmas: &str) -> Result<AnyConnection, sqlx::Error> {
    let mut conn = options.connect().await?;
    conn.execute(pragmas).await?;
    Ok(conn)
}

type Outcome = Result<Vec<Deliver>, (Vec<Deliver>, sqlx::Error)>;

/// Runs a batch in one transaction. On an error that ends the transaction, the writes not yet
/// run are dropped with the batch, and their callers hear that the writer could not run them.
/// Each trip to the connection's thread counts, so the statements that frame the writes go
/// with each other: `BEGIN IMMEDIATE`, a savepoint around each write of several statements
/// (one that fails is undone alone, the others go on), `COMMIT`.
async fn commit(conn: &mut AnyConnection, batch: impl Iterator<Item = Job>) -> Outcome {
    let mut delivers = Vec::new();
    let mut frame = String::from("BEGIN IMMEDIATE");
    for job in batch {
        if !job.single_statement {
            frame.push_str("; SAVEPOINT w");
        }
        if let Err(e) = conn.execute(frame.as_str()).await {
            let _ = conn.execute("ROLLBACK").await;
            return Err((delivers, e));
        }
        frame.clear();
        let (ok, deliver) = (job.run)(conn).await;
        delivers.push(deliver);
        if !job.single_statement {
            frame.push_str(if ok {
                "RELEASE w"
            } else {
                "ROLLBACK TO w; RELEASE w"
            });
        }
    }
    frame.push_str(if frame.is_empty() {
        "COMMIT"
    } else {
        "; COMMIT"
    });
    match conn.execute(frame.as_str()).await {
        Ok(_) => Ok(delivers),
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            Err((delivers, e))
        }
    }
}
