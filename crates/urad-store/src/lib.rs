//! The database handle. One code path for both backends: queries are written once in the SQL
//! both SQLite and PostgreSQL understand (`$1` placeholders, TEXT/BIGINT columns); only the
//! migrations exist per backend, because DDL differs. Two ways to run a query:
//!
//! - [`statement`]s (`sql("…").bind(…)` with [`Db::fetch_optional`], [`Db::fetch_all`],
//!   [`Db::write`]) for the hot paths: on SQLite straight on its C API (`sqlite.rs`,
//!   `group_commit.rs`), on PostgreSQL through sqlx;
//! - sqlx's `Any` driver on [`Db::reader`], [`Db::writer`] and [`Db::begin_write`] for the rest
//!   (transactions with logic between statements, rarely used writes).
//!
//! See docs/adr/0001-persistence.md.

pub mod blobs;
pub mod folder_sync;
mod group_commit;
mod sqlite;
pub mod statement;

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row as _};
use statement::{Param, Row, Statement, Value, Written};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use sqlx;
pub use statement::sql;

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
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("column `{column}`: {problem}")]
    Column {
        column: String,
        problem: &'static str,
    },
    #[error("parameter {index} of `{sql}` is not $1…$n of those bound")]
    Parameter { sql: &'static str, index: usize },
    #[error("the database writer has stopped (see the log)")]
    WriterStopped,
    #[error("the write was not committed: {0}")]
    NotCommitted(String),
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

/// Connections to the database, SQLite or PostgreSQL: the [`statement`] methods, and sqlx
/// pools — [`Db::reader`] for statements that only read, [`Db::writer`] for those that write.
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
    /// SQLite only: the statements of [`statement`] run straight on SQLite (`sqlite.rs`).
    sqlite: Option<Arc<sqlite::Sqlite>>,
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
        let sqlite = match backend {
            Backend::Sqlite => Some(Arc::new(sqlite::Sqlite::open(
                &sqlite_file(url),
                SQLITE_WRITER_PRAGMAS,
            )?)),
            Backend::Postgres => None,
        };
        Ok(Db {
            reader,
            writer,
            sqlite,
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

    /// Runs a statement that only reads and returns its first row, if any.
    ///
    /// On SQLite this runs on the calling thread (see `sqlite.rs`): for the point lookups of
    /// the hot paths, which take microseconds. Longer reads belong on [`Db::reader`].
    pub async fn fetch_optional(&self, statement: Statement) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(statement).await?.into_iter().next())
    }

    /// Runs a statement that only reads and returns all its rows, as [`Db::fetch_optional`].
    pub async fn fetch_all(&self, statement: Statement) -> Result<Vec<Row>, StoreError> {
        match &self.sqlite {
            Some(sqlite) => sqlite.read(&statement),
            None => Ok(postgres_run(&self.reader, &statement).await?.rows),
        }
    }

    /// Runs the statements of a write in order, atomically: all are committed, or none.
    /// Returns what each statement that ran did (see [`Statement::only_if_previous_changed`]).
    ///
    /// For the short writes of the hot paths (sign-ins, token grants). On SQLite the writes
    /// waiting at the same moment are committed together in one transaction, each in a
    /// savepoint (see `group_commit.rs`), and each caller is answered after that commit; on
    /// PostgreSQL a write of several statements is a transaction of its own.
    pub async fn write(
        &self,
        statements: impl IntoIterator<Item = Statement>,
    ) -> Result<Vec<Written>, StoreError> {
        let statements: Vec<Statement> = statements.into_iter().collect();
        match &self.sqlite {
            Some(sqlite) => sqlite.write(statements).await,
            None if statements.len() == 1 => {
                Ok(vec![postgres_run(&self.writer, &statements[0]).await?])
            }
            None => {
                let mut tx = self.writer.begin().await?;
                let mut written: Vec<Written> = Vec::with_capacity(statements.len());
                for statement in &statements {
                    if statement.only_if_previous_changed
                        && written.last().is_some_and(|w| w.changed == 0)
                    {
                        break;
                    }
                    written.push(postgres_run(&mut *tx, statement).await?);
                }
                tx.commit().await?;
                Ok(written)
            }
        }
    }

    /// [`Db::write`] of one statement.
    pub async fn write_one(&self, statement: Statement) -> Result<Written, StoreError> {
        let mut written = self.write([statement]).await?;
        Ok(written.pop().unwrap_or_default())
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

/// Runs a statement through sqlx (PostgreSQL). Statements that return rows (`SELECT`,
/// `RETURNING`) are fetched; others report the rows they changed.
async fn postgres_run<'e, E>(executor: E, statement: &Statement) -> Result<Written, StoreError>
where
    E: Executor<'e, Database = sqlx::Any>,
{
    let mut query = sqlx::query(statement.sql);
    for param in &statement.params {
        query = match param {
            Param::Int(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.clone()),
        };
    }
    let upper = statement.sql.trim_start().to_ascii_uppercase();
    if upper.starts_with("SELECT") || upper.starts_with("WITH") || upper.contains("RETURNING") {
        let rows = query.fetch_all(executor).await?;
        let columns: Arc<[String]> = match rows.first() {
            Some(r) => sqlx::Row::columns(r)
                .iter()
                .map(|c| sqlx::Column::name(c).to_owned())
                .collect(),
            None => Arc::from(Vec::new()),
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                values.push(if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                    v.map_or(Value::Null, Value::Int)
                } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                    v.map_or(Value::Null, Value::Text)
                } else {
                    return Err(StoreError::Column {
                        column: column.clone(),
                        problem: "the schema keeps only integers and text",
                    });
                });
            }
            out.push(Row {
                columns: columns.clone(),
                values,
            });
        }
        let changed = out.len() as u64;
        Ok(Written { rows: out, changed })
    } else {
        let done = query.execute(executor).await?;
        Ok(Written {
            rows: Vec::new(),
            changed: done.rows_affected(),
        })
    }
}

/// The file of a `sqlite://FILE?options` URL.
fn sqlite_file(url: &str) -> std::path::PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or(rest).into()
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
                    let second = if n % 7 == 0 { n * 2 } else { n * 2 + 1 };
                    db.write([
                        sql("INSERT INTO t (n, half) VALUES ($1, 0)").bind(n * 2),
                        sql("INSERT INTO t (n, half) VALUES ($1, 1) RETURNING n").bind(second),
                    ])
                    .await
                })
            })
            .collect();
        let mut failed = 0;
        for write in writes {
            match write.await.unwrap() {
                Ok(written) => {
                    assert_eq!(written.len(), 2);
                    assert_eq!(written[0].changed, 1);
                    let n: i64 = written[1].rows[0].get("n").unwrap();
                    assert_eq!(n % 2, 1);
                }
                Err(e) => {
                    assert!(e.to_string().contains("UNIQUE"), "{e}");
                    failed += 1;
                }
            }
        }
        assert_eq!(failed, 10); // 0, 7, …, 63
        let rows = db
            .fetch_optional(sql(
                "SELECT COUNT(*) AS rows, COALESCE(SUM(half), 0) AS halves FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows.get::<i64>("rows").unwrap(), 2 * 54);
        assert_eq!(rows.get::<i64>("halves").unwrap(), 54);

        // A single statement needs no savepoint; a failing one leaves the batch intact too.
        assert!(db
            .write_one(sql("INSERT INTO t (n, half) VALUES (2, 0)"))
            .await
            .is_err());
        let added = db
            .write_one(sql("INSERT INTO t (n, half) VALUES (1000, 0)"))
            .await
            .unwrap();
        assert_eq!(added.changed, 1);

        // A statement that depends on the one before it is skipped when that changed nothing.
        let written = db
            .write([
                sql("UPDATE t SET half = 5 WHERE n = $1 RETURNING n").bind(-1i64),
                sql("INSERT INTO t (n, half) VALUES (2000, 0)").only_if_previous_changed(),
            ])
            .await
            .unwrap();
        assert_eq!(written.len(), 1);
        assert!(written[0].rows.is_empty());
        let none = db
            .fetch_all(sql("SELECT n FROM t WHERE n = $1").bind(2000i64))
            .await
            .unwrap();
        assert!(none.is_empty());
    }

    #[tokio::test]
    async fn reads_see_committed_writes_and_parameters_bind_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_embedded(dir.path()).await.unwrap();
        db.write_one(sql("CREATE TABLE p (a TEXT, b BIGINT, c TEXT)"))
            .await
            .unwrap();
        // $2 before $1, and $1 twice: bound by number, not by order of appearance.
        db.write_one(
            sql("INSERT INTO p (b, a, c) VALUES ($2, $1, $1 || $3)")
                .bind("x")
                .bind(Some(4i64))
                .bind(None::<String>),
        )
        .await
        .unwrap();
        let row = db
            .fetch_optional(sql("SELECT a, b, c FROM p WHERE b = $1").bind(4i64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<String>("a").unwrap(), "x");
        assert_eq!(row.get::<Option<i64>>("b").unwrap(), Some(4));
        assert_eq!(row.get::<Option<String>>("c").unwrap(), None);
        let refused = db
            .fetch_all(sql("INSERT INTO p (a) VALUES ('y')"))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("readonly"), "{refused}");
        let missing = db
            .fetch_all(sql("SELECT a FROM p WHERE a = $1 AND b = $2").bind("x"))
            .await
            .unwrap_err();
        assert!(
            matches!(missing, StoreError::Parameter { index: 2, .. }),
            "{missing}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn committed_writes_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_embedded(dir.path()).await.unwrap();
        db.write_one(sql("CREATE TABLE big (n BIGINT, pad TEXT)"))
            .await
            .unwrap();
        let file = dir.path().join("urad.sqlite3");
        let before = std::fs::metadata(&file).unwrap().len();
        // ~1 MiB in many small commits: far fewer pages than the old automatic checkpoint's
        // 1 000, so only the checkpointer thread copies them into the file.
        let writes: Vec<_> = (0..500i64)
            .map(|n| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write_one(
                        sql("INSERT INTO big (n, pad) VALUES ($1, $2)")
                            .bind(n)
                            .bind("x".repeat(2000)),
                    )
                    .await
                })
            })
            .collect();
        for w in writes {
            w.await.unwrap().unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let now = std::fs::metadata(&file).unwrap().len();
            if now >= before + 900_000 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the database file stayed at {now} bytes (was {before})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rows = db
            .fetch_optional(sql("SELECT COUNT(*) AS n FROM big"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows.get::<i64>("n").unwrap(), 500);
    }

    #[tokio::test]
    async fn sqlite_statements_have_sha256_hex_on_readers_and_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_embedded(dir.path()).await.unwrap();
        db.write_one(sql("CREATE TABLE h (n BIGINT, digest TEXT)"))
            .await
            .unwrap();
        // SHA-256("abc"), FIPS 180-2; the writer's connection computes it inside a write.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let written = db
            .write([
                sql("INSERT INTO h (n, digest) VALUES (1, sha256_hex($1))").bind("abc"),
                sql("INSERT INTO h (n, digest) VALUES (2, sha256_hex('a' || $1 || 3)) RETURNING digest")
                    .bind("b"),
            ])
            .await
            .unwrap();
        let ab3 = written[1].rows[0].get::<String>("digest").unwrap();
        assert_eq!(ab3.len(), 64);
        assert_ne!(ab3, abc);
        let row = db
            .fetch_optional(sql(
                "SELECT digest, sha256_hex('abc') AS again, sha256_hex(NULL) AS none FROM h WHERE n = 1",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<String>("digest").unwrap(), abc);
        assert_eq!(row.get::<String>("again").unwrap(), abc);
        assert_eq!(row.get::<Option<String>>("none").unwrap(), None);
        // Text only, as on PostgreSQL.
        assert!(db
            .fetch_all(sql("SELECT sha256_hex(5) AS d"))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn rejects_unknown_schemes() {
        let err = Db::connect("mysql://x").await.unwrap_err();
        assert!(matches!(err, StoreError::UnsupportedUrl(_)));
    }
}
