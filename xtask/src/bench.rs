//! `cargo xtask bench pages`: the portal's pages under load from oha on loopback.
//!
//! Starts the release build on a fresh SQLite database, measures the trivial endpoint
//! (`/healthz`, the ceiling of this machine for this server) and each page type with the same
//! connections and duration, and prints requests/s, p50 and p99 with the ratio to the ceiling,
//! plus the server's resident memory when idle. Ratios, not absolute numbers, are the targets:
//! they hold on any machine.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const CONNECTIONS: u32 = 64;
const TARGET_RATIO: f64 = 0.5;
const TARGET_P99_MS: f64 = 10.0;
const TARGET_IDLE_MB: f64 = 60.0;

struct Endpoint {
    name: &'static str,
    path: &'static str,
}

const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        name: "trivial (/healthz)",
        path: "/healthz",
    },
    Endpoint {
        name: "home",
        path: "/",
    },
    Endpoint {
        name: "catalogue",
        path: "/sluzby",
    },
    Endpoint {
        name: "search",
        path: "/sluzby?q=kotlikova%20dotace",
    },
    Endpoint {
        name: "search with typo",
        path: "/sluzby?q=kotlikva",
    },
    Endpoint {
        name: "filtered catalogue",
        path: "/sluzby?applicant=company&channel=online",
    },
    Endpoint {
        name: "service page",
        path: "/sluzby/kotlikova-dotace",
    },
    Endpoint {
        name: "API list",
        path: "/api/v1/services",
    },
];

struct Figures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    ok: f64,
}

pub fn pages(args: &[&str]) -> Result<()> {
    let seconds: u32 = match args {
        [] => 10,
        ["--duration", s] => s.parse().context("--duration takes whole seconds")?,
        _ => bail!("usage: cargo xtask bench pages [--duration SECS]"),
    };
    let oha = oha()?;
    crate::run(crate::cargo().args(["build", "--release", "--locked", "-p", "urad"]))?;
    let data = crate::tempdir("urad-bench")?;
    let server = crate::setup::Server::start(&crate::target_dir().join("release/urad"), &data)?;
    let base = server.base_url.clone();

    // Touch every page once, then let the process settle: that is "idle".
    for e in ENDPOINTS {
        load(&oha, &format!("{base}{}", e.path), 1, 1)?;
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    let idle_mb = rss_mb(server.pid())?;

    println!("\nurad bench pages: {CONNECTIONS} connections, {seconds} s per endpoint, release build, SQLite, oha on loopback");
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>8}  targets",
        "endpoint", "req/s", "p50 ms", "p99 ms", "ratio"
    );
    let mut ceiling = None;
    let mut failures = Vec::new();
    for e in ENDPOINTS {
        let f = load(&oha, &format!("{base}{}", e.path), CONNECTIONS, seconds)?;
        let ceiling_rps = *ceiling.get_or_insert(f.rps);
        let ratio = f.rps / ceiling_rps;
        let mut verdict = Vec::new();
        if ratio < TARGET_RATIO {
            verdict.push(format!("ratio < {TARGET_RATIO}"));
        }
        if f.p99_ms >= TARGET_P99_MS {
            verdict.push(format!("p99 ≥ {TARGET_P99_MS} ms"));
        }
        if f.ok < 1.0 {
            verdict.push(format!("{:.2} % errors", (1.0 - f.ok) * 100.0));
        }
        println!(
            "{:<22} {:>10.0} {:>9.2} {:>9.2} {:>8.2}  {}",
            e.name,
            f.rps,
            f.p50_ms,
            f.p99_ms,
            ratio,
            if verdict.is_empty() {
                "met".to_owned()
            } else {
                verdict.join(", ")
            }
        );
        if !verdict.is_empty() {
            failures.push(format!("{}: {}", e.name, verdict.join(", ")));
        }
    }
    // Informational: every request a new URL, so every page is rendered and searched anew —
    // what the server costs when the page cache does not help.
    let urls = crate::tempdir("urad-bench-urls")?.join("urls.txt");
    let words = [
        "kotlikova dotace",
        "verejna sbirka",
        "zapisovy listek",
        "stk",
        "obcanstvi",
        "overeni podpisu",
        "dotace kultura",
        "zdravotnicka dokumentace",
        "kotlikva",
        "datova schranka",
    ];
    let lines: Vec<String> = (0..20_000)
        .map(|i| {
            format!(
                "{base}/sluzby?q={}&n={i}",
                words[i % words.len()].replace(' ', "%20")
            )
        })
        .collect();
    std::fs::write(&urls, lines.join("\n"))?;
    let f = load_urls(&oha, &urls, CONNECTIONS, seconds)?;
    println!(
        "{:<22} {:>10.0} {:>9.2} {:>9.2} {:>8.2}  informational: each request a new search, rendered anew",
        "search, not kept",
        f.rps,
        f.p50_ms,
        f.p99_ms,
        f.rps / ceiling.unwrap_or(f.rps)
    );
    let loaded_mb = rss_mb(server.pid())?;
    println!("memory (RSS): idle {idle_mb:.1} MB, after the load {loaded_mb:.1} MB (target: idle < {TARGET_IDLE_MB} MB)");
    if idle_mb >= TARGET_IDLE_MB {
        failures.push(format!("idle memory {idle_mb:.1} MB"));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    if failures.is_empty() {
        println!("all targets met");
    } else {
        println!("targets missed: {}", failures.join("; "));
    }
    Ok(())
}

fn load(oha: &PathBuf, url: &str, connections: u32, seconds: u32) -> Result<Figures> {
    run_oha(Command::new(oha).arg(url), connections, seconds)
}

/// Load with URLs taken from a file, one per line.
fn load_urls(
    oha: &PathBuf,
    file: &std::path::Path,
    connections: u32,
    seconds: u32,
) -> Result<Figures> {
    run_oha(
        Command::new(oha).arg("--urls-from-file").arg(file),
        connections,
        seconds,
    )
}

fn run_oha(cmd: &mut Command, connections: u32, seconds: u32) -> Result<Figures> {
    let out = cmd
        .args(["--no-tui", "--output-format", "json", "-c"])
        .arg(connections.to_string())
        .arg("-z")
        .arg(format!("{seconds}s"))
        .output()
        .context("cannot run oha")?;
    if !out.status.success() {
        bail!("oha failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("oha printed no JSON")?;
    let num = |p: &str| v.pointer(p).and_then(Value::as_f64);
    Ok(Figures {
        rps: num("/summary/requestsPerSec").context("no requestsPerSec")?,
        p50_ms: num("/latencyPercentiles/p50").unwrap_or(f64::NAN) * 1000.0,
        p99_ms: num("/latencyPercentiles/p99").unwrap_or(f64::NAN) * 1000.0,
        ok: num("/summary/successRate").unwrap_or(0.0),
    })
}

fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    Ok(kb / 1024.0)
}

/// oha from crates.io, installed once into ~/.cache/urad/tools.
fn oha() -> Result<PathBuf> {
    if let Ok(p) = which("oha") {
        return Ok(p);
    }
    let root =
        PathBuf::from(std::env::var("HOME").context("HOME is not set")?).join(".cache/urad/tools");
    let bin = root.join("bin/oha");
    if !bin.exists() {
        eprintln!("installing the load generator oha into {}", root.display());
        crate::run(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["install", "oha", "--locked", "--root"])
                .arg(&root),
        )?;
    }
    Ok(bin)
}

fn which(name: &str) -> Result<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.exists())
        })
        .context("not on PATH")
}
