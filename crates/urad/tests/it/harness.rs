//! One harness for every integration test: the real server on a free port, against a fresh
//! SQLite file or a fresh database in the throwaway PostgreSQL cluster that `cargo xtask test`
//! starts (its URL comes in `URAD_TEST_POSTGRES_URL`).

use std::collections::HashMap;
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

/// How a test app starts, where it differs from the defaults.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// The content folder; default: the repository's `content/`.
    pub content: Option<PathBuf>,
    /// The environment the server takes client secrets from, instead of the process's.
    pub env: HashMap<String, String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Registry facts for the grants robot (`--grant-registry`).
    pub grant_registry: Option<PathBuf>,
}

pub fn content_dir() -> PathBuf {
    // From the environment cargo sets when it runs the test, not the compiled-in path: CI shares
    // one target folder between clones at different paths and does not rebuild for a new path.
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test"))
        .join("../../content")
}

/// Copies the repository's catalogue (office, agendas, life situations, services; not the
/// clients) into the folder `to`.
pub fn copy_catalogue(to: &std::path::Path) {
    let from = content_dir();
    std::fs::create_dir_all(to.join("services")).unwrap();
    for f in ["office.toml", "agendas.toml", "life-situations.toml"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    for e in std::fs::read_dir(from.join("services")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join("services").join(p.file_name().unwrap())).unwrap();
    }
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
                .execute(db.writer())
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
        TestApp::start_with(backend, Setup::default())
            .await
            .expect("server starts")
    }

    /// Starts on a fresh database with `setup`; the start-up error (`{e:#}`) if it fails.
    pub async fn start_with(backend: Backend, setup: Setup) -> Result<TestApp, String> {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreArgs {
            data_dir: dir.path().join("data"),
            database_url: fresh_database(backend).await,
        };
        TestApp::serve(dir, store, setup, "127.0.0.1:0").await
    }

    /// Stops the server and starts it again on the same address (the issuer stays the same)
    /// and the same database, with `setup`.
    pub async fn restart(mut self, setup: Setup) -> Result<TestApp, String> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        let listen = self.base.trim_start_matches("http://").to_owned();
        TestApp::serve(self._dir, self.store, setup, &listen).await
    }

    async fn serve(
        dir: tempfile::TempDir,
        store: StoreArgs,
        setup: Setup,
        listen: &str,
    ) -> Result<TestApp, String> {
        let args = ServeArgs {
            listen: listen.parse().unwrap(),
            public_url: None,
            upstreams: None,
            demo_idp: true,
            rate_limit_per_ip: urad_web::rate_limit::DEFAULT_PER_IP,
            cache_secs: urad_web::DEFAULT_CACHE_SECS,
            trusted_proxies: setup.trusted_proxies.clone(),
            tsa_url: None,
            tsa_certificate: None,
            grant_registry: setup.grant_registry.clone(),
            store: store.clone(),
            content: ContentArgs::dir(setup.content.unwrap_or_else(content_dir)),
            attachments: Default::default(),
        };
        let env = setup.env;
        let (tx, rx) = oneshot::channel::<()>();
        let server = urad::start_with_env(&args, &|name| env.get(name).cloned(), async {
            let _ = rx.await;
        })
        .await
        .map_err(|e| format!("{e:#}"))?;
        Ok(TestApp {
            base: format!("http://{}", server.addr),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            store,
            stop: Some(tx),
            server: Some(server.handle),
            _dir: dir,
        })
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
