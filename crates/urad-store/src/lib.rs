//! The database handle. One code path for both backends: queries are written once in the SQL
//! both SQLite and PostgreSQL understand (`$1` placeholders, TEXT/BIGINT columns) and run
//! through sqlx's `Any` driver; only the migrations exist per backend, because DDL differs.
//! See docs/adr/0001-persistence.md.

mod group_commit;

use group_commit::GroupCommit;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

pub use sqlx;
pub use sqlx::AnyConnection;

/// A boxed future, as the work given to [`Db::write`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The work given to [`Db::write`] and [`Db::write_statement`]: statements run on the writer's
/// connection, `|conn| Box::pin(async move { … })`.
pub trait WriteWork<T>:
    for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send + 'static
{
}

impl<T, F> WriteWork<T> for F where
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
        + Send
        + 'static
{
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://FILE or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the database writer's thread: {0}")]
    WriterThread(std::io::Error),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which database engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connections to the database, SQLite or PostgreSQL: [`Db::reader`] for statements that only
/// read, [`Db::writer`] for those that write.
///
/// On PostgreSQL both are the same pool. On SQLite, which has one writer at a time, the writer
/// is a pool of one connection: writes queue for it in the process, in order and without
/// sleeping. Several connections that write would collide on SQLite's write lock, and a
/// connection that finds it taken sleeps in SQLite's busy handler (1, 2, 5, 10 ms …) however
/// soon the lock is free — under load most of a write's time went to those sleeps. The
/// readers are opened `query_only`, so a write sent to one fails at once in the tests instead
/// of quietly taking that slow path.
#[derive(Clone, Debug)]
pub struct Db {
    reader: AnyPool,
    writer: AnyPool,
    /// SQLite only: the queue of [`Db::write`]s committed together.
    group_commit: Option<GroupCommit>,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// The default embedded database: a SQLite file inside `data_dir`, created if missing.
    pub async fn open_embedded(data_dir: &Path) -> Result<Db, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let file = data_dir.join("urad.sqlite3");
        Db::connect(&format!("sqlite://{}?mode=rwc", file.display())).await
    }

    /// Connects to `sqlite://…` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let options = sqlx::any::AnyConnectOptions::from_str(url)?;

        let (reader, writer) = match backend {
            // SQLite has one writer; WAL lets readers go on while it writes. In WAL mode
            // `synchronous=NORMAL` fsyncs at checkpoints, not at every commit: a commit
            // survives the process crashing, not a power loss (ADR 0001, amended), and the
            // server is no longer bounded by the disk's fsync latency. Foreign keys are off
            // unless asked for. The busy timeout is for other processes (`urad client add`
            // while the server runs); within this one, writes queue for the writer.
            Backend::Sqlite => {
                let writer = sqlite_pool(&options, 1, false).await?;
                let reader = sqlite_pool(&options, 4, true).await?;
                (reader, writer)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options.clone())
                    .await?;
                (pool.clone(), pool)
            }
        };
        let group_commit = match backend {
            Backend::Sqlite => Some(
                GroupCommit::start(options.clone(), SQLITE_WRITER_PRAGMAS)
                    .map_err(StoreError::WriterThread)?,
            ),
            Backend::Postgres => None,
        };
        Ok(Db {
            reader,
            writer,
            group_commit,
            backend,
        })
    }

    /// Applies every migration not yet applied. Safe to run from several processes at once on
    /// PostgreSQL (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await?;
        Ok(())
    }

    /// Whether the database answers; used by `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// A transaction that will write, on the writer. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes cannot
    /// wait for another process's writer and fails with `database is locked`. While it is
    /// open, the SQLite writer is taken: do not ask for [`Db::writer`] before it ends.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// Runs `work` atomically on the writer: all its statements are committed, or none.
    ///
    /// For the short writes of the hot paths (sign-ins, token grants). On SQLite the writes
    /// waiting at the same moment are committed together in one transaction, each in a
    /// savepoint (see `group_commit.rs`), and each caller is answered after that commit; on
    /// PostgreSQL `work` runs in a transaction of its own. `work` must not itself wait for
    /// another write, [`Db::writer`] or [`Db::begin_write`]: on SQLite it runs while the
    /// writer is taken.
    pub async fn write<T, F>(&self, work: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: WriteWork<T>,
    {
        match &self.group_commit {
            Some(group) => group.write(false, work).await,
            None => {
                let mut tx = self.writer.begin().await?;
                let value = work(&mut tx).await?;
                tx.commit().await?;
                Ok(value)
            }
        }
    }

    /// Runs `work`, which sends exactly one statement, on the writer, as [`Db::write`] does.
    /// One statement is atomic by itself, so on SQLite it needs no savepoint of its own in
    /// the batch: one trip less to the connection's thread.
    pub async fn write_statement<T, F>(&self, work: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: WriteWork<T>,
    {
        match &self.group_commit {
            Some(group) => group.write(true, work).await,
            None => work(&mut *self.writer.acquire().await?).await,
        }
    }

    /// Connections for statements that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// The connection(s) for statements that write (`INSERT`, `UPDATE`, `DELETE`).
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

const SQLITE_WRITER_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
const SQLITE_READER_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;";

/// A pool of SQLite connections, configured for the server (see [`Db::connect`]).
async fn sqlite_pool(
    options: &sqlx::any::AnyConnectOptions,
    connections: u32,
    query_only: bool,
) -> Result<AnyPool, sqlx::Error> {
    let pragmas = if query_only {
        SQLITE_READER_PRAGMAS
    } else {
        SQLITE_WRITER_PRAGMAS
    };
    AnyPoolOptions::new()
        .max_connections(connections)
        // A write that waits longer than this for the writer has met a bug (a writer asked
        // for while a write transaction is open), not load: fail instead of hanging.
        .acquire_timeout(Duration::from_secs(30))
        // A local file cannot go away like a network peer: pinging it before every use only
        // adds a round trip to the connection's thread.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(pragmas).await?;
                Ok(())
            })
        })
        .connect_with(options.clone())
        .await
}

/// Hides the password of a database URL for logs and error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://urad:secret@db:5432/urad"),
            "postgres://urad:***@db:5432/urad"
        );
        assert_eq!(
            redact("sqlite://data/urad.sqlite3"),
            "sqlite://data/urad.sqlite3"
        );
    }

    #[tokio::test]
    async fn embedded_database_is_created_migrated_and_configured() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_embedded(&dir.path().join("data")).await.unwrap();
        db.migrate().await.unwrap();
        db.migrate().await.unwrap(); // idempotent
        db.ping().await.unwrap();
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(mode.0.to_lowercase(), "wal");
        let fk: (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(fk.0, 1);
        assert!(dir.path().join("data/urad.sqlite3").exists());
    }

    #[tokio::test]
    async fn sqlite_readers_refuse_writes_and_writes_queue_for_one_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_embedded(dir.path()).await.unwrap();
        db.migrate().await.unwrap();
        sqlx::query("CREATE TABLE t (n BIGINT)")
            .execute(db.writer())
            .await
            .unwrap();
        let refused = sqlx::query("INSERT INTO t (n) VALUES (1)")
            .execute(db.reader())
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("readonly"), "{refused}");

        // Many concurrent writers: every one lands, none meets a locked database.
        let writes: Vec<_> = (0..64)
            .map(|n: i64| {
                let db = db.clone();
                tokio::spawn(async move {
                    sqlx::query("INSERT INTO t (n) VALUES ($1)")
                        .bind(n)
                        .execute(db.writer())
                        .await
                })
            })
            .collect();
        for write in writes {
            write.await.unwrap().unwrap();
        }
        let count: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(count.0, 64);
        assert_eq!(db.writer().options().get_max_connections(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_committed_together_succeed_or_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_embedded(dir.path()).await.unwrap();
        sqlx::query("CREATE TABLE t (n BIGINT PRIMARY KEY, half BIGINT NOT NULL)")
            .execute(db.writer())
            .await
            .unwrap();
        // 64 writes of two rows each, at once, so that they share transactions. Every
        // seventh one fails on its second row (a duplicate key): its first row must go too,
        // and no other write may be harmed.
        let writes: Vec<_> = (0..64i64)
            .map(|n| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(move |conn| {
                        Box::pin(async move {
                            sqlx::query("INSERT INTO t (n, half) VALUES ($1, 0)")
                                .bind(n * 2)
                                .execute(&mut *conn)
                                .await?;
                            let second = if n % 7 == 0 { n * 2 } else { n * 2 + 1 };
                            sqlx::query("INSERT INTO t (n, half) VALUES ($1, 1)")
                                .bind(second)
                                .execute(&mut *conn)
                                .await?;
                            Ok(n)
                        })
                    })
                    .await
                })
            })
            .collect();
        let mut failed = Vec::new();
        for write in writes {
            match write.await.unwrap() {
                Ok(_) => {}
                Err(e) => {
                    assert!(e.to_string().contains("UNIQUE"), "{e}");
                    failed.push(());
                }
            }
        }
        assert_eq!(failed.len(), 10); // 0, 7, …, 63
        let rows: (i64, i64) = sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(half), 0) FROM t")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(rows, (2 * 54, 54));

        // A single statement needs no savepoint; a failing one leaves the batch intact too.
        let refused = db
            .write_statement(|conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (n, half) VALUES (2, 0)")
                        .execute(&mut *conn)
                        .await
                })
            })
            .await;
        assert!(refused.is_err());
        let added = db
            .write_statement(|conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (n, half) VALUES (1000, 0)")
                        .execute(&mut *conn)
                        .await
                        .map(|r| r.rows_affected())
                })
            })
            .await
            .unwrap();
        assert_eq!(added, 1);
    }

    #[tokio::test]
    async fn rejects_unknown_schemes() {
        let err = Db::connect("mysql://x").await.unwrap_err();
        assert!(matches!(err, StoreError::UnsupportedUrl(_)));
    }
}
