//! A throwaway PostgreSQL cluster for the test suite: `initdb` in a temporary folder, started
//! with `pg_ctl` on a free loopback port, stopped and removed when dropped. PostgreSQL refuses
//! to run as root, so as root the cluster runs as the `postgres` (or `nobody`) user.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    user: Option<String>,
}

impl Cluster {
    pub fn start() -> Result<Cluster> {
        let bin = find_bin_dir()?;
        let dir = crate::tempdir("urad-pg")?;
        let user = if crate::is_root() {
            Some(service_user()?)
        } else {
            None
        };
        if let Some(u) = &user {
            crate::run(Command::new("chown").args(["-R", u]).arg(&dir))?;
        }
        let port = free_port()?;
        let mut cluster = Cluster {
            dir,
            bin,
            port,
            user,
        };
        let data = cluster.dir.join("data");
        cluster.pg("initdb", |c| {
            c.arg("-D").arg(&data).args([
                "-A",
                "trust",
                "-U",
                "urad",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]);
        })?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            cluster.dir.display()
        );
        cluster.pg("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-o", &options, "-w", "-l"])
                .arg(cluster.dir.join("log"))
                .arg("start");
        })?;
        eprintln!("throwaway PostgreSQL listening on 127.0.0.1:{port}");
        cluster.port = port;
        Ok(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://urad@127.0.0.1:{}/postgres", self.port)
    }

    fn pg(&self, program: &str, configure: impl FnOnce(&mut Command)) -> Result<()> {
        let exe = self.bin.join(program);
        let mut cmd = match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        cmd.current_dir(&self.dir);
        configure(&mut cmd);
        let output = cmd
            .output()
            .with_context(|| format!("cannot run {}", exe.display()))?;
        if !output.status.success() {
            bail!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.pg("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"]);
        });
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_bin_dir() -> Result<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .collect();
        versions.sort();
        candidates.extend(versions.into_iter().rev());
    }
    candidates
        .into_iter()
        .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
        .context("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package")
}

fn service_user() -> Result<String> {
    for user in ["postgres", "nobody"] {
        if Command::new("id")
            .arg(user)
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Ok(user.into());
        }
    }
    bail!("running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL")
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
