//! An independent Kafka-protocol broker for comparison runs (`faults --tansu`): tansu
//! (`cargo install tansu --locked --features dynostore,postgres`), storing its log in a
//! Postgres database of its own, so it keeps what it acknowledged across its own restarts, as
//! a real Kafka does. Not in CI.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;

/// Where tansu listens and what it advertises (the embedded broker's usual address).
pub const ADDRESS: &str = "127.0.0.1:9092";
/// The platform's topics, each with its dead-letter topic.
const TOPICS: [&str; 3] = ["user.registered", "media.uploaded", "media.processed"];

pub struct Tansu {
    database: String,
    child: Option<Child>,
}

impl Tansu {
    /// Starts tansu on a new database and creates the platform's topics.
    pub async fn start() -> anyhow::Result<Self> {
        let database = platform_testkit::unique("faults_tansu_");
        psql(&format!(r#"create database "{database}""#))?;
        let mut tansu = Self {
            database,
            child: None,
        };
        tansu.spawn().await?;
        for topic in TOPICS {
            for name in [topic.to_owned(), format!("{topic}.dlq")] {
                let created = Command::new("tansu")
                    .args(["topic", "create", &name, "--partitions", "3"])
                    .args(["--broker", &format!("tcp://{ADDRESS}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .context("running tansu topic create")?;
                anyhow::ensure!(created.success(), "tansu could not create {name}");
            }
        }
        Ok(tansu)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let storage =
            platform_testkit::database_url(&platform_testkit::postgres_admin_url(), &self.database);
        let url = format!("tcp://{ADDRESS}");
        let child = Command::new("tansu")
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", &storage])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context(
                "starting tansu (cargo install tansu --locked --features dynostore,postgres)",
            )?;
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(ADDRESS).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("tansu did not listen on {ADDRESS}")
    }

    /// SIGKILL: the broker is down until [`restart`](Self::restart).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same storage: it still has what it acknowledged.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.spawn().await
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.kill();
        let _ = psql(&format!(
            r#"drop database if exists "{}" with (force)"#,
            self.database
        ));
    }
}

fn psql(sql: &str) -> anyhow::Result<()> {
    let status = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-qc", sql])
        .stdout(Stdio::null())
        .status()
        .context("running psql")?;
    anyhow::ensure!(status.success(), "psql failed: {sql}");
    Ok(())
}
