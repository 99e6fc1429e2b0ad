//! An independent Kafka-protocol broker for comparison runs (`faults --tansu`): tansu
//! (`cargo install tansu --locked --features dynostore`), a separate implementation of the
//! protocol with its own group coordinator. Not in CI.
//!
//! It runs with memory storage (its Postgres storage needs a schema the crate does not ship),
//! so like the embedded broker it keeps nothing across its own restart. Each start gets a new
//! cluster id, as a broker rebuilt from scratch would: with the same id, an empty log could not
//! be told from the old one, and events it had acknowledged and nobody had consumed yet would
//! be lost (docs/reliability.md).

use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::Context as _;

/// Where tansu listens and what it advertises (the embedded broker's usual address).
pub const ADDRESS: &str = "127.0.0.1:9092";
pub struct Tansu {
    child: Option<Child>,
    /// The platform's topics, as `devstack topics` lists them; each gets a dead-letter topic.
    topics: Vec<String>,
}

impl Tansu {
    /// Starts tansu and creates the platform's topics, which it asks `devstack` for.
    pub async fn start(devstack: &Path) -> anyhow::Result<Self> {
        let mut tansu = Self {
            child: None,
            topics: platform_testkit::native::topics(devstack),
        };
        tansu.spawn().await?;
        Ok(tansu)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let url = format!("tcp://{ADDRESS}");
        let child = Command::new("tansu")
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .args(["--cluster-id", &platform_testkit::unique("tansu_")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting tansu (cargo install tansu --locked --features dynostore)")?;
        self.child = Some(child);
        crate::until_listening(ADDRESS)
            .await
            .context("tansu did not start")?;
        // It does not create topics on produce.
        for topic in &self.topics {
            for name in [topic.clone(), format!("{topic}.dlq")] {
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
        Ok(())
    }

    /// SIGKILL: the broker is down until [`restart`](Self::restart).
    pub fn kill(&mut self) {
        crate::kill_server(&mut self.child);
    }

    /// Starts it again: empty, under a new cluster id.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.spawn().await
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.kill();
    }
}
