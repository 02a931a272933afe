//! What the test suite needs on a fresh machine, installed by the project itself: Debian's
//! Chromium for the browser tests, the npm packages of web/ (from its lock file) and moto's
//! S3-compatible server (from PyPI) for the blob store's tests.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub fn browser_prerequisites() -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("installing Debian's chromium for the browser tests");
        let sudo = !crate::is_root();
        let apt = |args: &[&str]| -> Result<()> {
            let mut cmd = if sudo {
                Command::new("sudo")
            } else {
                Command::new("apt-get")
            };
            if sudo {
                cmd.arg("apt-get");
            }
            cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            crate::run(&mut cmd)
        };
        apt(&["update", "-qq"])?;
        apt(&[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "fonts-dejavu-core",
        ])?;
    }
    npm_packages()
}

/// The Python that runs moto's server.
pub const PYTHON: &str = "python3";
/// moto, pinned: the S3-compatible server the blob store's tests run against.
const MOTO: &str = "moto[server]==5.2.1";

/// Installs moto's server with pip when Python cannot import it.
pub fn s3_server() -> Result<()> {
    let importable = |module: &str| {
        Command::new(PYTHON)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !importable("moto.server") || !importable("flask") {
        eprintln!("installing {MOTO} from PyPI for the blob store's tests");
        crate::run(Command::new(PYTHON).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO,
        ]))
        .context("cannot install moto's S3 server with pip")?;
    }
    Ok(())
}

/// `npm ci` in web/ when node_modules is missing or older than the lock file.
pub fn npm_packages() -> Result<()> {
    let web = crate::root().join("web");
    let lock = web.join("package-lock.json");
    let stamp = web.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&stamp)) {
        (Ok(l), Ok(s)) => s.modified()? >= l.modified()?,
        _ => false,
    };
    if !fresh {
        crate::run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&web),
        )
        .context("npm ci in web/ failed")?;
    }
    Ok(())
}

/// A running `urad serve` on a free port with its own data folder; killed when dropped.
pub struct Server {
    child: Child,
    pub base_url: String,
    /// Set once the process is known to have ended (then there is nothing to stop).
    ended: bool,
}

impl Server {
    pub fn start(binary: &Path, data_dir: &Path) -> Result<Server> {
        Server::start_with(binary, data_dir, &[], &[])
    }

    /// Like `start` with more `serve` arguments and environment variables.
    pub fn start_with(
        binary: &Path,
        data_dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Server> {
        Server::start_at("127.0.0.1:0", binary, data_dir, args, env)
    }

    /// Like `start_with`, listening on `listen` (`127.0.0.1:0` picks a free port).
    pub fn start_at(
        listen: &str,
        binary: &Path,
        data_dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Server> {
        let mut child = Command::new(binary)
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(data_dir)
            .arg("--content-dir")
            .arg(crate::root().join("content"))
            .args(args)
            .envs(env.iter().copied())
            .env("URAD_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let base_url = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                bail!("urad exited before it listened");
            };
            let line = line?;
            if let Some(rest) = line.strip_prefix("urad serves the portal at ") {
                break rest.trim().trim_end_matches('/').to_owned();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("urad did not start in time");
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe; pass on its warnings
        // and errors, so a failing request under load says why.
        // The first ones say why; thousands under load would bury the figures.
        std::thread::spawn(move || {
            let mut shown = 0;
            for line in lines.map_while(Result::ok) {
                if !(line.contains(" WARN") || line.contains("ERROR")) {
                    continue;
                }
                shown += 1;
                if shown <= 20 {
                    eprintln!("urad: {}", without_colours(&line));
                } else if shown == 21 {
                    eprintln!("urad: … further warnings and errors not shown");
                }
            }
        });
        Ok(Server {
            child,
            base_url,
            ended: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server at once (SIGKILL): no graceful shutdown, as in a crash.
    pub fn kill_now(mut self) -> Result<()> {
        self.child.kill().context("cannot kill urad")?;
        self.child.wait().context("cannot wait for urad")?;
        self.ended = true;
        Ok(())
    }
}

/// A log line without its ANSI colour sequences (`ESC [ … m`).
fn without_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
