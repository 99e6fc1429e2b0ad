//! The services' manifests, `services/NAME/service.toml`: what the native run needs to know
//! of a service besides its crate (its ports, its database, whom it calls). The same files
//! feed the compose generator and the CI checks, so a service is described once.
//!
//! They are read at run time from this checkout (the path is fixed when devstack is built),
//! so editing one needs no rebuild.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use toml_edit::{DocumentMut, Item};

/// One service's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The service's name: its folder, its binary, its compose and Kubernetes name.
    pub name: String,
    pub ports: Ports,
    pub database: Option<Database>,
    /// The services it calls over gRPC; they start before it and stop after it.
    pub calls: Vec<String>,
    /// The topics it publishes and consumes (`[events]`): the compose generator creates them,
    /// and a test holds them to the code's list, `platform_kafka::events::TOPICS`.
    pub publishes: Vec<String>,
    pub consumes: Vec<String>,
}

/// The default ports a service listens on (its settings' defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    pub http: Option<u16>,
    pub grpc: Option<u16>,
    pub ops: u16,
}

/// The Postgres database a service owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// The database's name (`auth`); a sharded one's are `<name>_<region>` (`user_eu`).
    pub name: String,
    /// Empty for one database, given in `DATABASE_URL`; otherwise one database per region,
    /// given in `<NAME>_SHARDS` as `region=url,…`.
    pub regions: Vec<String>,
}

impl Manifest {
    /// Every manifest under `services/`, in start order: a service after those it calls,
    /// otherwise by name.
    pub fn all() -> anyhow::Result<Vec<Self>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("listing {}", dir.display()))?
            .map(|entry| entry.map(|e| e.path().join("service.toml")))
            .collect::<Result<_, _>>()?;
        paths.retain(|path| path.is_file());
        paths.sort();
        let manifests = paths
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path)?;
                Self::parse(&text).with_context(|| format!("reading {}", path.display()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        start_order(manifests)
    }

    /// Parses one manifest.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let doc: DocumentMut = text.parse()?;
        let name = string(&doc["name"], "name")?;
        let port = |key: &str| -> anyhow::Result<Option<u16>> {
            match doc["ports"].get(key).and_then(Item::as_integer) {
                None => Ok(None),
                Some(n) => Ok(Some(u16::try_from(n).context("a port is 0-65535")?)),
            }
        };
        let ports = Ports {
            http: port("http")?,
            grpc: port("grpc")?,
            ops: port("ops")?.context("ports.ops is missing: every service has one")?,
        };
        let database = match doc.get("database") {
            None => None,
            Some(table) => Some(Database {
                name: string(&table["name"], "database.name")?,
                regions: strings(table.get("regions"))?,
            }),
        };
        let calls = strings(doc.get("calls").and_then(|calls| calls.get("services")))?;
        let events = |key: &str| strings(doc.get("events").and_then(|events| events.get(key)));
        Ok(Self {
            name,
            ports,
            database,
            calls,
            publishes: events("publishes")?,
            consumes: events("consumes")?,
        })
    }

    /// The variable the service reads its database from, if it has one.
    pub fn database_variable(&self) -> Option<String> {
        let database = self.database.as_ref()?;
        Some(if database.regions.is_empty() {
            "DATABASE_URL".to_owned()
        } else {
            format!("{}_SHARDS", self.name.to_uppercase().replace('-', "_"))
        })
    }
}

fn string(item: &Item, key: &str) -> anyhow::Result<String> {
    item.as_str()
        .map(str::to_owned)
        .with_context(|| format!("{key} is missing or not a string"))
}

fn strings(item: Option<&Item>) -> anyhow::Result<Vec<String>> {
    let Some(item) = item else {
        return Ok(Vec::new());
    };
    let array = item.as_array().context("expected an array of strings")?;
    array
        .iter()
        .map(|value| {
            value
                .as_str()
                .map(str::to_owned)
                .context("expected an array of strings")
        })
        .collect()
}

/// Orders `manifests` (sorted by name) so that each comes after the services it calls.
fn start_order(mut pending: Vec<Manifest>) -> anyhow::Result<Vec<Manifest>> {
    let mut ordered: Vec<Manifest> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|m| {
            m.calls
                .iter()
                .all(|callee| ordered.iter().any(|o| &o.name == callee))
        });
        let Some(ready) = ready else {
            let names: Vec<_> = pending.iter().map(|m| m.name.as_str()).collect();
            bail!(
                "these services call each other in a circle or call an unknown service: {names:?}"
            );
        };
        ordered.push(pending.remove(ready));
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repositorys_manifests_are_read_in_start_order() {
        let names: Vec<_> = Manifest::all()
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        let at = |name: &str| names.iter().position(|n| n == name).unwrap();
        assert!(at("media") < at("user"), "{names:?}");
        assert!(at("user") < at("gateway"), "{names:?}");
        assert!(at("auth") < at("gateway"), "{names:?}");
    }

    /// One topic list: what the manifests publish is what the code declares, and every topic
    /// consumed is one somebody publishes.
    #[test]
    fn the_manifests_topics_are_the_codes() {
        use std::collections::BTreeSet;
        let manifests = Manifest::all().unwrap();
        let published: BTreeSet<&str> = manifests
            .iter()
            .flat_map(|m| m.publishes.iter().map(String::as_str))
            .collect();
        let declared: BTreeSet<&str> = platform_kafka::events::TOPICS.iter().copied().collect();
        assert_eq!(
            published, declared,
            "services/*/service.toml [events] publishes"
        );
        for manifest in &manifests {
            for topic in &manifest.consumes {
                assert!(
                    published.contains(topic.as_str()),
                    "{} consumes {topic}, which no service publishes",
                    manifest.name
                );
            }
        }
    }

    #[test]
    fn a_sharded_database_is_read_from_its_shards_variable() {
        let user = Manifest::parse(
            "name = \"user\"\n[ports]\nops = 9102\n[database]\nname = \"user\"\nregions = [\"eu\", \"us\"]\n",
        )
        .unwrap();
        assert_eq!(user.database_variable().as_deref(), Some("USER_SHARDS"));
        assert_eq!(user.database.unwrap().regions, ["eu", "us"]);
        let worker = Manifest::parse("name = \"media-worker\"\n[ports]\nops = 9104\n").unwrap();
        assert_eq!(worker.database_variable(), None);
    }

    #[test]
    fn a_circle_of_calls_is_refused() {
        let a = Manifest::parse("name = \"a\"\n[ports]\nops = 1\n[calls]\nservices = [\"b\"]\n");
        let b = Manifest::parse("name = \"b\"\n[ports]\nops = 2\n[calls]\nservices = [\"a\"]\n");
        assert!(start_order(vec![a.unwrap(), b.unwrap()]).is_err());
    }
}
