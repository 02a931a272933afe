//! `cargo xtask …`: the project's own automation.
//!
//! - `cargo xtask test`  — the whole suite: formatting, clippy, unit and integration tests on SQLite
//!   and on a throwaway PostgreSQL cluster (and the blob store on a throwaway S3-compatible
//!   server), then browser tests in Debian's Chromium. Installs
//!   what is missing (Chromium, npm packages) first.
//! - `cargo xtask bench pages` — load test of the portal's pages (see docs/benchmarks.md).
//! - `cargo xtask bench login` — sign-ins and refresh grants per second, urad against
//!   oidc-provider (see docs/benchmarks.md).
//! - `cargo xtask bench surge` — a grant call's opening minute: applicants signed in
//!   beforehand all submit at once; figures, ratios to the machine's ceilings, and a check
//!   that nothing was lost or reordered (see docs/benchmarks.md).
//! - `cargo xtask bench robot` — the grants robot's engine over 100 000 synthetic boiler
//!   applications (`urad robot evaluate`), against the same run with no rule evaluated.
//! - `cargo xtask crash` — SIGKILLs the server at random moments during submissions and
//!   checks after each restart that every receipted submission is complete and the journal
//!   and receipt log verify (a short form runs in `cargo xtask test`).
//! - `cargo xtask assets` — refresh the vendored Czech Gov Design System assets from web/.

mod bench;
mod crash;
mod login;
mod postgres;
mod robot;
mod s3;
mod setup;
mod surge;

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;

fn main() -> std::process::ExitCode {
    match dispatch() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["test"] => test(),
        ["test", "--no-browser"] => test_without_browser(),
        ["bench", "pages", rest @ ..] => bench::pages(rest),
        ["bench", "login", rest @ ..] => login::login(rest),
        ["bench", "surge", rest @ ..] => surge::surge(rest),
        ["bench", "robot", rest @ ..] => robot::robot(rest),
        ["crash", rest @ ..] => crash::crash(rest),
        ["assets"] => assets(),
        _ => {
            eprintln!(
                "usage: cargo xtask test [--no-browser] | bench pages [--duration SECS] \
                 | bench login [--concurrency N] [--duration SECS] \
                 | bench surge [--applicants N] [--concurrency N] [--attachment-kb K] [--only sqlite|postgres] \
                 | bench robot [--applications N] \
                 | crash [--rounds N] [--clients N] [--database-url URL] | assets"
            );
            std::process::exit(2);
        }
    }
}

/// The repository's root folder. Taken from the environment `cargo run` sets, not from the
/// path compiled in: CI shares one target folder between clones at different paths, and cargo
/// does not rebuild xtask when only the clone's path changed.
pub fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Cargo's target folder (CI keeps it outside the clone through `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root().join(p) })
        .unwrap_or_else(|| root().join("target"))
}

/// Runs a command, failing with its name when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn rust_tests(pg: &postgres::Cluster, s3: &s3::Server) -> Result<()> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))
        .context("formatting differs: run `cargo fmt --all`")?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))
    .context("clippy found problems")?;
    run(cargo()
        .args(["test", "--workspace", "--locked"])
        .env("URAD_TEST_POSTGRES_URL", pg.url())
        .envs(s3.env()))
}

fn test_without_browser() -> Result<()> {
    let pg = postgres::Cluster::start()?;
    let s3 = s3::Server::start()?;
    rust_tests(&pg, &s3)?;
    crash_tests(&pg)
}

fn test() -> Result<()> {
    setup::browser_prerequisites()?;
    let pg = postgres::Cluster::start()?;
    let s3 = s3::Server::start()?;
    rust_tests(&pg, &s3)?;
    crash_tests(&pg)?;
    browser_tests()
}

/// The short crash test on both databases, with the debug build the browser tests use too.
fn crash_tests(pg: &postgres::Cluster) -> Result<()> {
    run(cargo().args(["build", "--locked", "-p", "urad"]))?;
    crash::short(&target_dir().join("debug/urad"), &pg.url())
}

/// Starts the real binary on a fresh SQLite database and runs web/tests against it. The
/// interoperability tests start urad processes of their own (configured with the upstream
/// provider they start), so they get the binary's path as `URAD_BIN`.
fn browser_tests() -> Result<()> {
    run(cargo().args(["build", "--locked", "-p", "urad"]))?;
    let binary = target_dir().join("debug/urad");
    let data = tempdir("urad-browser")?;
    // E-mail goes to a port the browser tests open their own SMTP server on
    // (web/tests/back_office.test.mjs); until they do, urad keeps it in its queue.
    let smtp_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port()
        .to_string();
    let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
    let server = setup::Server::start_with(
        &binary,
        &data,
        &[],
        &[
            ("URAD_SMTP_URL", &smtp_url),
            ("URAD_MAIL_FROM", "Krajský úřad <podatelna@kraj.example.cz>"),
        ],
    )?;
    eprintln!("browser tests against {}", server.base_url);
    let result = run(Command::new("npm")
        .args(["test"])
        .current_dir(root().join("web"))
        .env("URAD_BASE_URL", &server.base_url)
        .env("URAD_TEST_SMTP_PORT", &smtp_port)
        .env("URAD_BIN", &binary));
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    result
}

fn assets() -> Result<()> {
    setup::npm_packages()?;
    run(Command::new("npm")
        .args(["run", "vendor"])
        .current_dir(root().join("web")))
}

/// Whether this process runs as root (PostgreSQL refuses to; apt-get needs it).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A fresh folder under the system's temp folder.
pub fn tempdir(prefix: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
