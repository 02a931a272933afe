//! `cargo xtask crash`: kills the server with SIGKILL at random moments while applicants are
//! submitting, many times over one database, and after every restart checks that each
//! submission that got a receipt is complete (data, attachment bytes, receipt), that nothing
//! is half-written or orphaned, and that the registry journal and the receipt log verify.
//! `cargo xtask test` runs a short form on SQLite and on its PostgreSQL cluster.

use crate::surge::{self, Sent};
use anyhow::{ensure, Context, Result};
use rand_core::RngCore;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Options {
    rounds: usize,
    clients: usize,
    database_url: Option<String>,
}

fn options(args: &[&str]) -> Result<Options> {
    let mut o = Options {
        rounds: 10,
        clients: 16,
        database_url: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .copied()
                .with_context(|| format!("{arg} needs a value"))
        };
        match *arg {
            "--rounds" => o.rounds = value()?.parse().context("--rounds N")?,
            "--clients" => o.clients = value()?.parse().context("--clients N")?,
            "--database-url" => o.database_url = Some(value()?.to_owned()),
            other => anyhow::bail!(
                "unknown option {other}: crash [--rounds N] [--clients N] [--database-url URL]"
            ),
        }
    }
    ensure!(o.rounds > 0 && o.clients > 0, "N must be at least 1");
    Ok(o)
}

/// `cargo xtask crash …` on its own: builds the server and runs the rounds.
pub fn crash(args: &[&str]) -> Result<()> {
    let o = options(args)?;
    crate::run(crate::cargo().args(["build", "--locked", "-p", "urad"]))?;
    run(&crate::target_dir().join("debug/urad"), &o)
}

/// The short form `cargo xtask test` runs: a few rounds on SQLite and on PostgreSQL (the
/// throwaway cluster's own database, which the integration tests leave alone).
pub fn short(binary: &Path, postgres_url: &str) -> Result<()> {
    for database_url in [None, Some(postgres_url.to_owned())] {
        run(
            binary,
            &Options {
                rounds: 4,
                clients: 8,
                database_url,
            },
        )?;
    }
    Ok(())
}

fn run(binary: &Path, o: &Options) -> Result<()> {
    let backend = if o.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let data_dir = crate::tempdir("urad-crash")?;
    let secret = crate::login::register_client_in(binary, &data_dir, o.database_url.as_deref())?;
    // One address for every restart: tokens name the issuer, its public URL.
    let listen = format!("127.0.0.1:{}", crate::postgres::free_port()?);
    let public = format!("http://{listen}");
    let mut serve_args = vec!["--rate-limit-per-ip", "0", "--public-url", &public];
    if let Some(url) = &o.database_url {
        serve_args.extend(["--database-url", url]);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut receipts: Vec<(usize, Sent)> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    for round in 1..=o.rounds {
        let server = crate::setup::Server::start_at(&listen, binary, &data_dir, &serve_args, &[])?;
        let base = server.base_url.clone();
        let with_files = runtime.block_on(accepts_attachments(&base))?;
        // Fresh applicants each round (access tokens live five minutes).
        let first = tokens.len();
        tokens.extend(runtime.block_on(surge::sign_in_applicants(
            &base,
            secret.clone(),
            o.clients,
        ))?);
        let kill_after = Duration::from_millis(200 + rand_core::OsRng.next_u64() % 1300);
        let (got, attempts) = runtime.block_on(load_until(
            &base,
            &tokens[first..],
            first,
            with_files,
            kill_after,
            move || server.kill_now(),
        ))?;
        let new = got.len();
        receipts.extend(got);

        // Restart over the same data; everything that got a receipt must be there.
        let server = crate::setup::Server::start_at(&listen, binary, &data_dir, &serve_args, &[])?;
        let bases = vec![server.base_url.clone()];
        let problems = runtime.block_on(surge::read_back(&bases, &tokens, &receipts));
        ensure!(
            problems.is_empty(),
            "{backend} round {round}: {} receipted submissions are not complete after the restart; first: {}",
            problems.len(),
            problems[0]
        );
        let journal = urad(
            binary,
            &data_dir,
            o.database_url.as_deref(),
            &["filing", "verify"],
        )?;
        let log = if has_receipt_log(binary)? {
            urad(
                binary,
                &data_dir,
                o.database_url.as_deref(),
                &["receipt-log", "verify", "--sign-head"],
            )?
        } else {
            "no receipt log in this build".into()
        };
        println!(
            "crash {backend} round {round}/{}: killed after {} ms with {attempts} applications under way or sent, {new} receipted this round, {} in all — all complete; {}; {}",
            o.rounds,
            kill_after.as_millis(),
            receipts.len(),
            journal.lines().next().unwrap_or_default(),
            log.lines().next().unwrap_or_default(),
        );
        drop(server);
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}

/// Whether the server takes attachments through the API (its OpenAPI document says).
async fn accepts_attachments(base: &str) -> Result<bool> {
    let doc: serde_json::Value = reqwest::get(format!("{base}/api/openapi.json"))
        .await?
        .json()
        .await?;
    Ok(doc["paths"]["/api/v1/drafts/{id}/attachments"].is_object())
}

/// Applicants submit in a loop; after `kill_after`, with requests in flight, `kill` ends the
/// server. Returns the receipts they got (a request under way when the server died gets
/// none, whatever the server committed) and how many applications were started.
async fn load_until(
    base: &str,
    tokens: &[String],
    first: usize,
    with_files: bool,
    kill_after: Duration,
    kill: impl FnOnce() -> Result<()>,
) -> Result<(Vec<(usize, Sent)>, usize)> {
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + kill_after;
    let tasks: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(k, token)| {
            let (base, token, stop) = (base.to_owned(), token.clone(), stop.clone());
            tokio::spawn(async move {
                let http = surge::client();
                let mut got = Vec::new();
                let mut attempts = 0;
                let files = if with_files {
                    surge::attachments(20)
                } else {
                    Vec::new()
                };
                let form = if with_files {
                    "kotlikova-dotace"
                } else {
                    "obecne-podani"
                };
                while !stop.load(Ordering::Relaxed) {
                    attempts += 1;
                    let data = if with_files {
                        surge::boiler_application(attempts)
                    } else {
                        surge::general_submission(attempts)
                    };
                    let mut latencies = Vec::new();
                    if let Ok(sent) =
                        surge::apply(&http, &base, &token, form, data, &files, &mut latencies).await
                    {
                        got.push((first + k, sent));
                    }
                }
                (got, attempts)
            })
        })
        .collect();
    tokio::time::sleep_until(deadline.into()).await;
    // SIGKILL with requests in flight: every answer a client got came before the death.
    kill()?;
    stop.store(true, Ordering::Relaxed);
    let mut got = Vec::new();
    let mut attempts = 0;
    for t in tasks {
        let (g, a) = t.await?;
        got.extend(g);
        attempts += a;
    }
    Ok((got, attempts))
}

fn has_receipt_log(binary: &Path) -> Result<bool> {
    let help = Command::new(binary).arg("--help").output()?;
    Ok(String::from_utf8_lossy(&help.stdout)
        .lines()
        .any(|l| l.trim_start().starts_with("receipt-log")))
}

/// `urad ARGS` on the crash test's database; fails with its output when it fails.
fn urad(
    binary: &Path,
    data_dir: &Path,
    database_url: Option<&str>,
    args: &[&str],
) -> Result<String> {
    let mut cmd = Command::new(binary);
    cmd.args(args).arg("--data-dir").arg(data_dir);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.env("URAD_LOG", "warn").output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(out.status.success(), "urad {args:?} failed: {text}");
    Ok(text.trim().to_owned())
}
