//! `cargo xtask bench surge`: the opening minute of a popular grant call. N applicants, signed
//! in beforehand through the gateway (real sign-ins with the demo identity provider), all send
//! an application at the same instant through the API: a draft with the boiler-grant form's
//! data, its two required attachments (old boiler photo and invoice, `--attachment-kb` in
//! all),
//! and the submission. Then it checks that nothing was lost or put out of order: every
//! application that got a receipt reads back with its data, attachment bytes and receipt;
//! receipts have no duplicates; sequences follow commit order; the registry journal and the
//! receipt log verify (`urad filing verify`, `urad receipt-log verify`).
//!
//! Figures are printed beside ceilings measured in the same run on the same machine: the
//! disk's durable write bandwidth and a trivial endpoint's rate at the same concurrency. The
//! load driver shares the two cores with the server(s). Runs on SQLite (one process) and on
//! PostgreSQL (two processes sharing the database and the blob folder, load spread over both).

use crate::login::{self, User};
use anyhow::{bail, ensure, Context, Result};
use rand_core::RngCore;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TARGET_WITH_ATTACHMENTS: f64 = 1000.0;
const TARGET_WITHOUT: f64 = 5000.0;
const TARGET_P99_MS: f64 = 250.0;

struct Options {
    applicants: usize,
    concurrency: usize,
    attachment_kb: usize,
    only: Option<String>,
}

fn options(args: &[&str]) -> Result<Options> {
    let mut o = Options {
        applicants: 20_000,
        concurrency: 1000,
        attachment_kb: 100,
        only: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .copied()
                .with_context(|| format!("{arg} needs a value"))
        };
        match *arg {
            "--applicants" => o.applicants = value()?.parse().context("--applicants N")?,
            "--concurrency" => o.concurrency = value()?.parse().context("--concurrency N")?,
            "--attachment-kb" => o.attachment_kb = value()?.parse().context("--attachment-kb K")?,
            "--only" => o.only = Some(value()?.to_owned()),
            other => bail!(
                "unknown option {other}: bench surge [--applicants N] [--concurrency N] \
                 [--attachment-kb K] [--only sqlite|postgres]"
            ),
        }
    }
    ensure!(
        o.applicants > 0 && o.concurrency > 0,
        "N must be at least 1"
    );
    if let Some(only) = &o.only {
        ensure!(
            only == "sqlite" || only == "postgres",
            "--only sqlite or --only postgres"
        );
    }
    Ok(o)
}

pub fn surge(args: &[&str]) -> Result<()> {
    // The driver shares the cores with the server: it runs as a release build.
    if cfg!(debug_assertions) {
        return crate::run(
            crate::cargo()
                .args([
                    "run",
                    "--quiet",
                    "--release",
                    "--locked",
                    "-p",
                    "xtask",
                    "--",
                ])
                .args(["bench", "surge"])
                .args(args),
        );
    }
    let o = options(args)?;
    crate::run(crate::cargo().args(["build", "--release", "--locked", "-p", "urad"]))?;
    let binary = crate::target_dir().join("release/urad");
    let scratch = crate::tempdir("urad-bench-surge")?;
    let disk = disk_ceiling(&scratch)?;
    println!(
        "disk ceiling: {:.0} MB/s written and made durable (1 MiB writes, one fdatasync), \
         {:.0} durable 100 KB writes/s ({:.0} MB/s)",
        disk.bulk_mb_s, disk.small_per_s, disk.small_mb_s
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut results = Vec::new();
    for backend in ["sqlite", "postgres"] {
        if o.only.as_deref().is_some_and(|only| only != backend) {
            continue;
        }
        let mut sizes = vec![o.attachment_kb];
        if o.attachment_kb > 0 {
            sizes.push(0);
        }
        for kb in sizes {
            let figures = runtime.block_on(run(&binary, backend, kb, &o))?;
            figures.print(&disk);
            results.push(figures);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!();
    println!("summary (targets on the 2-core machine with SQLite: ≥ {TARGET_WITH_ATTACHMENTS:.0}/s with attachments, ≥ {TARGET_WITHOUT:.0}/s without, p99 < {TARGET_P99_MS:.0} ms, zero lost):");
    for f in &results {
        println!("  {}", f.summary());
    }
    let failed: Vec<&Figures> = results.iter().filter(|f| !f.verified()).collect();
    ensure!(
        failed.is_empty(),
        "verification failed for: {}",
        failed
            .iter()
            .map(|f| f.label())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// The disk's own limits, measured in the folder the databases and blobs will use.
struct Disk {
    bulk_mb_s: f64,
    small_per_s: f64,
    small_mb_s: f64,
}

fn disk_ceiling(dir: &Path) -> Result<Disk> {
    let mut chunk = vec![0u8; 1 << 20];
    rand_core::OsRng.fill_bytes(&mut chunk);
    let path = dir.join("disk-ceiling");
    let total_mib = 512;
    let started = Instant::now();
    {
        let mut f = std::fs::File::create(&path)?;
        for _ in 0..total_mib {
            f.write_all(&chunk)?;
        }
        f.sync_data()?;
    }
    let bulk_mb_s = total_mib as f64 * 1.048_576 / started.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    let small = &chunk[..100_000];
    let started = Instant::now();
    let mut writes = 0u32;
    {
        let mut f = std::fs::File::create(&path)?;
        while started.elapsed() < Duration::from_secs(2) {
            f.write_all(small)?;
            f.sync_data()?;
            writes += 1;
        }
    }
    std::fs::remove_file(&path)?;
    let small_per_s = f64::from(writes) / started.elapsed().as_secs_f64();
    Ok(Disk {
        bulk_mb_s,
        small_per_s,
        small_mb_s: small_per_s * 0.1,
    })
}

/// The data of one boiler-grant application (valid for the form's schema); `i` makes each
/// applicant's different.
pub(crate) fn boiler_application(i: usize) -> Value {
    json!({
        "applicant": {"name": format!("Žadatel {i}"), "birth_date": "1980-04-12",
                      "permanent_address_building_id": format!("{}", 10_000 + i)},
        "building": {"building_id": format!("{}", 500_000 + i), "type": "family_house",
                     "approved": true, "municipality_code": "554821", "energy_class": "C"},
        "old_boiler": {"fuel": "coal", "feeding": "manual", "emission_class": "2"},
        // Needs no installer's certificate: the two required files, photo and invoice.
        "new_source": "gas_condensing",
        "eligible_costs_czk": 180_000 + i as i64,
        "micro_measures": false,
        "payment": {"bank_account": "19-2000145399/0800"}
    })
}

/// A general submission (no attachments needed), for the run without attachments.
pub(crate) fn general_submission(i: usize) -> Value {
    json!({
        "sender": {"name": format!("Žadatel {i}"), "address": "Hlavní 1, Ostrava"},
        "subject": format!("Dotaz {i}"),
        "text": "Prosím o informaci."
    })
}

/// The files an application carries: (slot, file name, bytes), `kb` KB in all; the content
/// starts as the type's real files do, so that the server's content check accepts it.
pub(crate) fn attachments(kb: usize) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    if kb == 0 {
        return Vec::new();
    }
    let each = kb * 1000 / 2;
    let file = |head: &[u8], tail: &[u8]| {
        let mut bytes = vec![0u8; each.max(head.len() + tail.len())];
        rand_core::OsRng.fill_bytes(&mut bytes);
        bytes[..head.len()].copy_from_slice(head);
        let end = bytes.len() - tail.len();
        bytes[end..].copy_from_slice(tail);
        bytes
    };
    let jpeg = file(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00", b"\xFF\xD9");
    let pdf = file(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", b"\n%%EOF\n");
    vec![
        ("old_boiler_photo", "kotel.jpg", jpeg),
        ("invoice_or_budget", "faktura.pdf", pdf),
    ]
}

#[derive(Default)]
struct Figures {
    backend: &'static str,
    processes: usize,
    attachment_kb: usize,
    applicants: usize,
    concurrency: usize,
    sign_in_s: f64,
    trivial_per_s: f64,
    accepted: usize,
    errors: usize,
    first_error: Option<String>,
    per_s: f64,
    requests_per_application: usize,
    p50_ms: f64,
    p99_ms: f64,
    request_p99_ms: f64,
    checks: Vec<(String, bool)>,
}

impl Figures {
    fn label(&self) -> String {
        format!(
            "{} ({} process{}), {}",
            self.backend,
            self.processes,
            if self.processes == 1 { "" } else { "es" },
            if self.attachment_kb > 0 {
                format!("{} KB of attachments", self.attachment_kb)
            } else {
                "no attachments".into()
            }
        )
    }

    fn verified(&self) -> bool {
        self.errors == 0 && self.checks.iter().all(|(_, ok)| *ok)
    }

    fn summary(&self) -> String {
        format!(
            "{}: {:.0} accepted/s, p99 {:.0} ms, {} errors, verification {}",
            self.label(),
            self.per_s,
            self.p99_ms,
            self.errors,
            if self.verified() { "passed" } else { "FAILED" }
        )
    }

    fn print(&self, disk: &Disk) {
        println!();
        println!("== {} ==", self.label());
        println!(
            "{} applicants signed in beforehand in {:.1} s; {} concurrent clients; trivial endpoint (/healthz) {:.0} requests/s at that concurrency",
            self.applicants, self.sign_in_s, self.concurrency, self.trivial_per_s
        );
        println!(
            "accepted {:.0} submissions/s ({} accepted, {} errors{}), latency per application p50 {:.1} ms, p99 {:.1} ms; per request p99 {:.1} ms",
            self.per_s,
            self.accepted,
            self.errors,
            self.first_error
                .as_deref()
                .map(|e| format!(", first: {e}"))
                .unwrap_or_default(),
            self.p50_ms,
            self.p99_ms,
            self.request_p99_ms
        );
        let request_rate = self.per_s * self.requests_per_application as f64;
        println!(
            "ratio to the trivial endpoint: {:.2} ({} requests per application, {:.0} requests/s)",
            request_rate / self.trivial_per_s.max(1.0),
            self.requests_per_application,
            request_rate
        );
        if self.attachment_kb > 0 {
            let mb_s = self.per_s * self.attachment_kb as f64 / 1000.0;
            println!(
                "attachments {:.1} MB/s: {:.2} of the disk's bulk durable bandwidth, {:.2} of its durable 100 KB writes",
                mb_s,
                mb_s / disk.bulk_mb_s,
                mb_s / disk.small_mb_s.max(0.001)
            );
        }
        for (check, ok) in &self.checks {
            println!("  [{}] {check}", if *ok { "ok" } else { "FAILED" });
        }
    }
}

/// What the servers of one run are, and how to reach their database.
struct Deployment {
    servers: Vec<crate::setup::Server>,
    data_dir: PathBuf,
    database_url: Option<String>,
    _postgres: Option<crate::postgres::Cluster>,
}

impl Deployment {
    fn start(binary: &Path, backend: &str, processes: usize) -> Result<Deployment> {
        let data_dir = crate::tempdir("urad-surge")?;
        let postgres = if backend == "postgres" {
            Some(crate::postgres::Cluster::start()?)
        } else {
            None
        };
        let database_url = postgres.as_ref().map(|c| c.url());
        let secret = login::register_client_in(binary, &data_dir, database_url.as_deref())?;
        std::fs::write(data_dir.join("bench-client-secret"), &secret)?;
        // All processes are one portal behind a load balancer: one public URL (the first's).
        let ports: Vec<u16> = (0..processes)
            .map(|_| crate::postgres::free_port())
            .collect::<Result<_>>()?;
        let public = format!("http://127.0.0.1:{}", ports[0]);
        let mut servers = Vec::new();
        for port in &ports {
            let mut args = vec!["--rate-limit-per-ip", "0", "--public-url", &public];
            if let Some(url) = &database_url {
                args.extend(["--database-url", url]);
            }
            servers.push(crate::setup::Server::start_at(
                &format!("127.0.0.1:{port}"),
                binary,
                &data_dir,
                &args,
                &[],
            )?);
        }
        Ok(Deployment {
            servers,
            data_dir,
            database_url,
            _postgres: postgres,
        })
    }

    fn secret(&self) -> Result<String> {
        Ok(std::fs::read_to_string(
            self.data_dir.join("bench-client-secret"),
        )?)
    }

    fn bases(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.base_url.clone()).collect()
    }

    /// Runs `urad ARGS` against this deployment's database; its output and whether it passed.
    fn urad(&self, binary: &Path, args: &[&str]) -> Result<(bool, String)> {
        let mut cmd = Command::new(binary);
        cmd.args(args).arg("--data-dir").arg(&self.data_dir);
        if let Some(url) = &self.database_url {
            cmd.args(["--database-url", url]);
        }
        let out = cmd
            .env("URAD_LOG", "warn")
            .output()
            .with_context(|| format!("cannot run urad {args:?}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((out.status.success(), text.trim().to_owned()))
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.servers.clear();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Signs in `n` applicants (real sign-ins, 32 at a time); their access tokens.
pub(crate) async fn sign_in_applicants(
    base: &str,
    secret: String,
    n: usize,
) -> Result<Vec<String>> {
    let target = Arc::new(login::discover("urad", base, secret).await?);
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..32.min(n))
        .map(|_| {
            let (target, next) = (target.clone(), next.clone());
            tokio::spawn(async move {
                let mut user = User::new();
                let mut tokens = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let answer = user.sign_in_tokens(&target).await?;
                    tokens.push(
                        answer["access_token"]
                            .as_str()
                            .context("no access token")?
                            .to_owned(),
                    );
                }
                anyhow::Ok(tokens)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// One client connection of the load (each virtual client keeps its own).
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a plain http client builds")
}

/// `GET /healthz` from `concurrency` clients for `seconds`: requests per second.
async fn trivial_rate(bases: &[String], concurrency: usize, seconds: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|i| {
            let url = format!("{}/healthz", bases[i % bases.len()]);
            tokio::spawn(async move {
                let http = client();
                let mut done = 0usize;
                while Instant::now() < deadline {
                    if http
                        .get(&url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success())
                    {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// One application as a client sends it; what it sent, and the receipt.
pub(crate) struct Sent {
    pub data: Value,
    pub files: Vec<(String, String)>,
    pub receipt: Value,
}

/// Sends one application: draft with data, attachments, submission. Returns what was sent
/// and the receipt, and the latency of each request.
pub(crate) async fn apply(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    form: &str,
    data: Value,
    files: &[(&'static str, &'static str, Vec<u8>)],
    latencies: &mut Vec<f64>,
) -> Result<Sent> {
    let timed = |started: Instant, latencies: &mut Vec<f64>| {
        latencies.push(started.elapsed().as_secs_f64() * 1000.0)
    };
    let started = Instant::now();
    let res = http
        .post(format!("{base}/api/v1/drafts"))
        .bearer_auth(token)
        .json(&json!({ "form": form, "data": data }))
        .send()
        .await?;
    let status = res.status();
    let draft: Value = res.json().await.unwrap_or_default();
    timed(started, latencies);
    ensure!(status.as_u16() == 201, "create draft: {status} {draft}");
    let id = draft["id"].as_str().context("draft without id")?.to_owned();
    let mut sent_files = Vec::new();
    for (slot, name, bytes) in files {
        let started = Instant::now();
        let res = http
            .post(format!("{base}/api/v1/drafts/{id}/attachments"))
            .query(&[("slot", slot), ("name", name)])
            .bearer_auth(token)
            .body(bytes.clone())
            .send()
            .await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or_default();
        timed(started, latencies);
        ensure!(status.as_u16() == 201, "upload {slot}: {status} {body}");
        sent_files.push((
            body["id"].as_str().unwrap_or_default().to_owned(),
            crate::login::sha256_hex(bytes),
        ));
    }
    let started = Instant::now();
    let res = http
        .post(format!("{base}/api/v1/drafts/{id}/submit"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = res.status();
    let receipt: Value = res.json().await.unwrap_or_default();
    timed(started, latencies);
    ensure!(status.as_u16() == 201, "submit: {status} {receipt}");
    Ok(Sent {
        data,
        files: sent_files,
        receipt,
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn run(binary: &Path, backend: &'static str, kb: usize, o: &Options) -> Result<Figures> {
    let processes = if backend == "postgres" { 2 } else { 1 };
    let deployment = Deployment::start(binary, backend, processes)?;
    let bases = deployment.bases();
    let mut f = Figures {
        backend,
        processes,
        attachment_kb: kb,
        applicants: o.applicants,
        concurrency: o.concurrency,
        ..Figures::default()
    };
    let started = Instant::now();
    let tokens = sign_in_applicants(&bases[0], deployment.secret()?, o.applicants).await?;
    f.sign_in_s = started.elapsed().as_secs_f64();
    f.trivial_per_s = trivial_rate(&bases, o.concurrency, 3).await;

    let (form, files) = if kb > 0 {
        ("kotlikova-dotace", Arc::new(attachments(kb)))
    } else {
        ("obecne-podani", Arc::new(Vec::new()))
    };
    f.requests_per_application = 2 + files.len();
    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicUsize::new(0));
    let opening = Arc::new(tokio::sync::Barrier::new(o.concurrency + 1));
    let tasks: Vec<_> = (0..o.concurrency)
        .map(|_| {
            let (tokens, next, opening, files, bases) = (
                tokens.clone(),
                next.clone(),
                opening.clone(),
                files.clone(),
                bases.clone(),
            );
            tokio::spawn(async move {
                let http = client();
                let mut sent = Vec::new();
                let mut errors = Vec::new();
                let mut application_ms = Vec::new();
                let mut request_ms = Vec::new();
                opening.wait().await;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= tokens.len() {
                        break;
                    }
                    let data = if files.is_empty() {
                        general_submission(i)
                    } else {
                        boiler_application(i)
                    };
                    let started = Instant::now();
                    let base = &bases[i % bases.len()];
                    match apply(&http, base, &tokens[i], form, data, &files, &mut request_ms).await
                    {
                        Ok(s) => {
                            application_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                            sent.push((i, s));
                        }
                        Err(e) => errors.push(format!("{e:#}")),
                    }
                }
                (sent, errors, application_ms, request_ms)
            })
        })
        .collect();
    opening.wait().await;
    // On stderr, so that a profiler can be attached at the opening instant.
    eprintln!("opening: {} clients start sending", o.concurrency);
    let started = Instant::now();
    let mut sent = Vec::new();
    let mut application_ms = Vec::new();
    let mut request_ms = Vec::new();
    for t in tasks {
        let (s, e, a, r) = t.await?;
        sent.extend(s);
        f.errors += e.len();
        if f.first_error.is_none() {
            f.first_error = e.into_iter().next();
        }
        application_ms.extend(a);
        request_ms.extend(r);
    }
    let elapsed = started.elapsed().as_secs_f64();
    f.accepted = sent.len();
    f.per_s = f.accepted as f64 / elapsed;
    application_ms.sort_by(f64::total_cmp);
    request_ms.sort_by(f64::total_cmp);
    f.p50_ms = percentile(&application_ms, 0.50);
    f.p99_ms = percentile(&application_ms, 0.99);
    f.request_p99_ms = percentile(&request_ms, 0.99);

    verify(&deployment, binary, &tokens, &sent, &mut f).await?;
    Ok(f)
}

/// Everything that got a receipt is there and in order; the server's own checks pass.
async fn verify(
    deployment: &Deployment,
    binary: &Path,
    tokens: &[String],
    sent: &[(usize, Sent)],
    f: &mut Figures,
) -> Result<()> {
    let bases = deployment.bases();
    let mismatches = read_back(&bases, tokens, sent).await;
    f.checks.push((
        format!(
            "every accepted application reads back with its data, attachment bytes and receipt ({} mismatches{})",
            mismatches.len(),
            mismatches
                .first()
                .map(|m| format!(", first: {m}"))
                .unwrap_or_default()
        ),
        mismatches.is_empty(),
    ));
    let references: BTreeSet<&str> = sent
        .iter()
        .filter_map(|(_, s)| s.receipt["reference"].as_str())
        .collect();
    let sequences: BTreeSet<i64> = sent
        .iter()
        .filter_map(|(_, s)| s.receipt["sequence"].as_i64())
        .collect();
    f.checks.push((
        format!(
            "no duplicates: {} receipts, {} distinct reference numbers, {} distinct sequences",
            sent.len(),
            references.len(),
            sequences.len()
        ),
        references.len() == sent.len() && sequences.len() == sent.len(),
    ));
    let gapless = sequences.iter().copied().eq(1..=sent.len() as i64);
    f.checks.push((
        format!(
            "sequences 1 … {} without gaps{}",
            sent.len(),
            if f.errors > 0 {
                " (errors above: gaps would be unanswered submissions)"
            } else {
                ""
            }
        ),
        gapless,
    ));
    let mut by_sequence: Vec<&Value> = sent.iter().map(|(_, s)| &s.receipt).collect();
    by_sequence.sort_by_key(|r| r["sequence"].as_i64());
    let in_order = by_sequence.windows(2).all(|w| {
        w[0]["log_index"].as_i64() < w[1]["log_index"].as_i64()
            && w[0]["received_at"].as_i64() <= w[1]["received_at"].as_i64()
    });
    f.checks.push((
        "sequences follow commit order (receipt-log leaf and receipt instant rise with the sequence)".into(),
        in_order,
    ));
    let (journal_ok, journal) = deployment.urad(binary, &["filing", "verify"])?;
    f.checks.push((
        format!("urad filing verify: {}", journal.replace('\n', "; ")),
        journal_ok && journal.contains(&format!("{} submissions", sent.len())),
    ));
    if has_subcommand(binary, "receipt-log")? {
        let (log_ok, log) = deployment.urad(binary, &["receipt-log", "verify", "--sign-head"])?;
        f.checks.push((
            format!("urad receipt-log verify: {}", log.replace('\n', "; ")),
            log_ok,
        ));
    } else {
        f.checks.push((
            "urad receipt-log verify: this build has no receipt log to verify".into(),
            false,
        ));
    }
    Ok(())
}

/// Whether `urad --help` lists `name`.
fn has_subcommand(binary: &Path, name: &str) -> Result<bool> {
    let help = Command::new(binary).arg("--help").output()?;
    Ok(String::from_utf8_lossy(&help.stdout)
        .lines()
        .any(|l| l.trim_start().starts_with(name)))
}

/// Reads every accepted application back through the API (64 at a time); what differs.
pub(crate) async fn read_back(
    bases: &[String],
    tokens: &[String],
    sent: &[(usize, Sent)],
) -> Vec<String> {
    let work = Arc::new(
        sent.iter()
            .map(|(i, s)| {
                (
                    bases[i % bases.len()].clone(),
                    tokens[*i].clone(),
                    s.data.clone(),
                    s.files.clone(),
                    s.receipt.clone(),
                )
            })
            .collect::<Vec<_>>(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (work, next) = (work.clone(), next.clone());
            tokio::spawn(async move {
                let http = client();
                let mut problems = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((base, token, data, files, receipt)) = work.get(i) else {
                        break;
                    };
                    if let Err(e) = check_one(&http, base, token, data, files, receipt).await {
                        problems.push(format!("{e:#}"));
                    }
                }
                problems
            })
        })
        .collect();
    let mut problems = Vec::new();
    for t in tasks {
        problems.extend(t.await.unwrap_or_else(|e| vec![e.to_string()]));
    }
    problems
}

async fn check_one(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    data: &Value,
    files: &[(String, String)],
    receipt: &Value,
) -> Result<()> {
    let id = receipt["id"].as_str().context("receipt without id")?;
    let stored: Value = http
        .get(format!("{base}/api/v1/submissions/{id}"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    ensure!(&stored == receipt, "{id}: receipt differs: {stored}");
    let draft: Value = http
        .get(format!("{base}/api/v1/drafts/{id}"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    ensure!(&draft["data"] == data, "{id}: data differ");
    ensure!(
        receipt["attachments"].as_array().map_or(0, Vec::len) == files.len(),
        "{id}: the receipt names {} attachments, {} were sent",
        receipt["attachments"].as_array().map_or(0, Vec::len),
        files.len()
    );
    for (attachment, sha256) in files {
        let bytes = http
            .get(format!(
                "{base}/api/v1/drafts/{id}/attachments/{attachment}"
            ))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        ensure!(
            &crate::login::sha256_hex(&bytes) == sha256,
            "{id}: attachment {attachment} reads back different"
        );
        ensure!(
            receipt["attachments"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["sha256"] == sha256.as_str())),
            "{id}: the receipt does not name attachment {attachment}'s SHA-256"
        );
    }
    Ok(())
}
