//! SQLite through its C API (`rusqlite`), for the statements of [`crate::statement`].
//!
//! sqlx runs every SQLite connection on a thread of its own: each statement is a message to
//! that thread and an answer back, each row another, and a pooled connection is pinged on its
//! way back to the pool. Under load those hand-offs, not SQLite, were most of a sign-in's
//! time (docs/benchmarks.md, session 5). Here:
//!
//! - **Reads** run on the calling thread, on a connection taken from a small stack of
//!   `query_only` connections: a point lookup in WAL mode takes microseconds and never waits
//!   for the writer, so doing it in place is cheaper than any hand-off.
//! - **Writes** go to one writer thread that owns the only writing connection and commits the
//!   writes waiting at the same moment together (`group_commit.rs`).
//! - **Checkpoints** (copying the WAL back into the database file, with its fsyncs) run on a
//!   thread of their own, not in the writer's commits: a checkpoint waits for the disk for
//!   milliseconds, and every write queued behind the writer waited with it (the p99 of a
//!   refresh grant fell from ~27 to ~11 ms without them; docs/benchmarks.md, session 5).

use crate::group_commit::GroupCommit;
use crate::statement::{placeholder_index, Param, Row, Statement, Value, Written};
use crate::StoreError;
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Prepared statements kept per connection; more than the hot paths use.
const STATEMENT_CACHE: usize = 128;

/// How often, at most, the checkpointer copies the WAL into the database while writes go on.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// WAL pages (4 KiB each) past which the checkpointer makes the writer wait until the WAL is
/// copied entirely and starts again from its beginning. A passive checkpoint never waits for
/// the writer, so under writes that never pause the WAL would otherwise only grow.
const WAL_RESTART_PAGES: i64 = 16_384;

#[derive(Debug)]
pub(crate) struct Sqlite {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: GroupCommit,
}

impl Sqlite {
    pub(crate) fn open(path: &Path, writer_pragmas: &'static str) -> Result<Sqlite, StoreError> {
        let writer_conn = open(path, writer_pragmas)?;
        // This connection's commits no longer checkpoint; the checkpointer does.
        writer_conn.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
        let checkpointer = start_checkpointer(open(path, writer_pragmas)?)?;
        Ok(Sqlite {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            writer: GroupCommit::start(writer_conn, checkpointer)
                .map_err(StoreError::WriterThread)?,
        })
    }

    /// Runs a read on the calling thread.
    pub(crate) fn read(&self, statement: &Statement) -> Result<Vec<Row>, StoreError> {
        let conn = self.readers.lock().expect("not poisoned").pop();
        let conn = match conn {
            Some(c) => c,
            None => open(&self.path, crate::SQLITE_READER_PRAGMAS)?,
        };
        let result = run(&conn, statement).map(|w| w.rows);
        self.readers.lock().expect("not poisoned").push(conn);
        result
    }

    pub(crate) async fn write(
        &self,
        statements: Vec<Statement>,
    ) -> Result<Vec<Written>, StoreError> {
        self.writer.write(statements).await
    }
}

/// Starts the checkpointer thread; the writer pokes it after each commit (a poke that finds
/// one waiting is dropped). It ends when the writer does.
fn start_checkpointer(conn: Connection) -> Result<SyncSender<()>, StoreError> {
    let (poke, poked) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("urad-db-checkpoint".into())
        .spawn(move || {
            let mut last = Instant::now();
            loop {
                match poked.recv_timeout(CHECKPOINT_EVERY) {
                    Ok(()) => {}
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                // Commits since the last checkpoint: copy them, at most every CHECKPOINT_EVERY.
                if let Some(rest) = CHECKPOINT_EVERY.checked_sub(last.elapsed()) {
                    std::thread::sleep(rest);
                }
                last = Instant::now();
                if let Err(e) = checkpoint(&conn) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
                }
            }
            // The last writes: into the database file before the process ends.
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
        })
        .map_err(StoreError::WriterThread)?;
    Ok(poke)
}

/// A passive checkpoint, which never stops the writer; a restarting one when the WAL has
/// grown past [`WAL_RESTART_PAGES`] (the writer waits for it, through its busy timeout).
fn checkpoint(conn: &Connection) -> Result<(), rusqlite::Error> {
    let wal_pages: i64 = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))?;
    if wal_pages > WAL_RESTART_PAGES {
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}

/// Opens a connection to the file and configures it.
pub(crate) fn open(path: &Path, pragmas: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch(pragmas)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    register_functions(&conn)?;
    Ok(conn)
}

/// SQL functions that PostgreSQL has from its migrations and SQLite does not, registered on
/// every connection opened here (the readers, the writer thread's connection). Connections of
/// sqlx's pools ([`crate::Db::reader`], [`crate::Db::writer`]) do not have them: a statement
/// that uses one must run through [`crate::Db::write`] or [`crate::Db::fetch_all`].
///
/// - `sha256_hex(text) → text`: the SHA-256 of the text's UTF-8 bytes, lowercase hexadecimal;
///   NULL for NULL, like PostgreSQL's `STRICT` function of migration 0015 (the audit log's
///   hash chain, crates/urad-audit).
fn register_functions(conn: &Connection) -> Result<(), rusqlite::Error> {
    use rusqlite::functions::FunctionFlags;
    use sha2::{Digest, Sha256};
    conn.create_scalar_function(
        "sha256_hex",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| match ctx.get_raw(0) {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => Ok(Some(urad_core::hex(&Sha256::digest(bytes)))),
            // PostgreSQL's function takes text only; so does this one, rather than guess an
            // encoding of numbers or bytes that the other engine would not share.
            ValueRef::Integer(_) | ValueRef::Real(_) | ValueRef::Blob(_) => {
                Err(rusqlite::Error::UserFunctionError(
                    "sha256_hex takes text (concatenate with || to make text)".into(),
                ))
            }
        },
    )
}

/// Runs one statement: binds `$n` to the n-th parameter, steps it to the end, and keeps the
/// rows it returns (the column names shared by all of them).
pub(crate) fn run(conn: &Connection, statement: &Statement) -> Result<Written, StoreError> {
    let mut stmt = conn.prepare_cached(statement.sql)?;
    for i in 1..=stmt.parameter_count() {
        let param = stmt
            .parameter_name(i)
            .and_then(placeholder_index)
            .and_then(|n| statement.params.get(n))
            .ok_or_else(|| StoreError::Parameter {
                sql: statement.sql,
                index: i,
            })?;
        match param {
            Param::Int(v) => stmt.raw_bind_parameter(i, v)?,
            Param::Text(v) => stmt.raw_bind_parameter(i, v)?,
        }
    }
    let columns: Arc<[String]> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let mut rows = Vec::new();
    let mut raw = stmt.raw_query();
    while let Some(row) = raw.next()? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Real(_) | ValueRef::Blob(_) => {
                    return Err(StoreError::Column {
                        column: columns[i].clone(),
                        problem: "the schema keeps only integers and text",
                    })
                }
            });
        }
        rows.push(Row {
            columns: columns.clone(),
            values,
        });
    }
    drop(raw);
    let changed = if columns.is_empty() {
        conn.changes()
    } else {
        rows.len() as u64
    };
    Ok(Written { rows, changed })
}
