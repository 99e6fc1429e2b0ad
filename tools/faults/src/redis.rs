//! A Redis server of the suite's own, on a port of its own, so it can be paused, killed and
//! started again without touching the machine's shared Redis.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;

/// A `redis-server` child on 127.0.0.1:`port`, with nothing persisted.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub async fn start(port: u16) -> anyhow::Result<Self> {
        let mut server = Self { port, child: None };
        server.spawn().await?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting redis-server (is Redis installed?)")?;
        self.child = Some(child);
        crate::until_listening(&format!("127.0.0.1:{}", self.port))
            .await
            .context("redis-server did not start")
    }

    /// Silent: every client command waits, for `duration` (`CLIENT PAUSE … ALL`).
    pub fn pause(&self, duration: Duration) -> anyhow::Result<()> {
        let millis = duration.as_millis().to_string();
        self.cli(&["client", "pause", &millis, "all"]).map(|_| ())
    }

    /// Refused: the server is killed; connections are refused until [`restart`](Self::restart).
    pub fn kill(&mut self) {
        crate::kill_server(&mut self.child);
    }

    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.spawn().await
    }

    fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .context("running redis-cli")?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
