//! One harness for every integration test: the real server on a free port, against a fresh
//! SQLite file or a fresh database in the throwaway PostgreSQL cluster that `cargo xtask test`
//! starts (its URL comes in `URAD_TEST_POSTGRES_URL`).

use std::path::PathBuf;
use tokio::sync::oneshot;
use urad::{ContentArgs, ServeArgs, StoreArgs};

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The app's database, to open a second handle on it.
    pub store: StoreArgs,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

pub fn content_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../content"))
}

/// A fresh database URL for `backend`: `None` means the embedded SQLite in the data folder.
pub async fn fresh_database(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let admin = std::env::var("URAD_TEST_POSTGRES_URL").expect(
                "URAD_TEST_POSTGRES_URL is not set: run the suite with `cargo xtask test`, \
                 which starts a throwaway PostgreSQL cluster",
            );
            let name = format!("urad_test_{}", uuid_like());
            let db = urad_store::Db::connect(&admin)
                .await
                .expect("connect to test PostgreSQL");
            urad_store::sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(db.pool())
                .await
                .expect("create test database");
            db.close().await;
            let base = admin.rsplit_once('/').expect("URL has a database").0;
            Some(format!("{base}/{name}"))
        }
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreArgs {
            data_dir: dir.path().join("data"),
            database_url: fresh_database(backend).await,
        };
        let args = ServeArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            upstreams: None,
            demo_idp: true,
            rate_limit_per_ip: urad_web::rate_limit::DEFAULT_PER_IP,
            store: store.clone(),
            content: ContentArgs::dir(content_dir()),
        };
        let (tx, rx) = oneshot::channel::<()>();
        let server = urad::start(&args, async {
            let _ = rx.await;
        })
        .await
        .expect("server starts");
        TestApp {
            base: format!("http://{}", server.addr),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            store,
            stop: Some(tx),
            server: Some(server.handle),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// GET, expecting `status`; returns the body.
    pub async fn text(&self, path: &str, status: u16) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status().as_u16(), status, "GET {path}");
        r.text().await.unwrap()
    }

    pub async fn json(&self, path: &str, status: u16) -> serde_json::Value {
        let r = self.get(path).await;
        assert_eq!(r.status().as_u16(), status, "GET {path}");
        r.json().await.unwrap()
    }

    /// Stops the server the way SIGTERM does and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::harness::TestApp::start($crate::harness::Backend::Sqlite).await).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::harness::TestApp::start($crate::harness::Backend::Postgres).await).await
            })*
        }
    };
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn(Backend)` (tests that
/// use the library on a fresh database rather than the server).
#[macro_export]
macro_rules! for_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite_store {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::harness::Backend::Sqlite).await
            })*
        }
        mod postgres_store {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::harness::Backend::Postgres).await
            })*
        }
    };
}
