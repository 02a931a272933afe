//! A throwaway S3-compatible server for the test suite: moto's server (from PyPI, installed by
//! `setup::s3_server`) on a free loopback port, stopped when dropped. The tests of the blob
//! store and of attachments on S3 get its address in `URAD_TEST_S3_ENDPOINT`.

use anyhow::{bail, Context, Result};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    port: u16,
}

impl Server {
    pub fn start() -> Result<Server> {
        crate::setup::s3_server()?;
        let port = crate::postgres::free_port()?;
        let child = Command::new(crate::setup::PYTHON)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start moto's S3 server")?;
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("moto's S3 server exited at start with {status}");
            }
            if Instant::now() > deadline {
                bail!("moto's S3 server did not listen within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("throwaway S3-compatible server listening on 127.0.0.1:{port}");
        server.port = port;
        Ok(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What `cargo test` needs to reach it: the endpoint and credentials moto accepts.
    pub fn env(&self) -> [(&'static str, String); 4] {
        [
            ("URAD_TEST_S3_ENDPOINT", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "urad-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "urad-test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
