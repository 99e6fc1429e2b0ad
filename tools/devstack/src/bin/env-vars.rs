//! `cargo run -p platform-devstack --bin env-vars`: the environment variables each service
//! reads and the ones it requires, as JSON, for `.ci/parity.py` to check docker-compose.yml
//! and the Kubernetes manifests against:
//!
//! ```text
//! {"auth": {"reads": ["AUTH_ACCESS_TOKEN_TTL", ...], "required": ["DATABASE_URL", "KAFKA_BROKERS"]}, ...}
//! ```
//!
//! Nothing here is a hand-kept list of what services read. Each service's settings are loaded
//! exactly as its `main` loads them, from an [`Env`] that records every name asked for
//! ([`Env::names_read`]). The required variables are found by construction: start from an
//! empty environment and add the variable each failure names (with a valid placeholder from
//! [`PLACEHOLDERS`]) until loading succeeds; then removing any one of them must fail again.
//!
//! Two short lists cover what recording alone cannot see: [`BRANCHES`], settings that switch
//! which other variables are read, and [`READ_BY_LIBRARIES`], names that libraries read from
//! the process themselves.

use std::collections::BTreeSet;

use anyhow::{Context as _, bail};
use platform_config::{ConfigError, Env};
use platform_devstack::manifest::Manifest;
use platform_devstack::services;
use serde_json::{Map, Value, json};

/// A valid placeholder for each variable some service requires. A service that starts
/// requiring a new variable makes this tool fail until one is added here.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("DATABASE_URL", "postgres://placeholder@db:5432/placeholder"),
    (
        "USER_SHARDS",
        "eu=postgres://placeholder@db-eu:5432/users_eu",
    ),
    ("KAFKA_BROKERS", "kafka:9092"),
];

/// Values that take a service down another branch of its settings, where it reads more
/// variables. Each applies only to services that read the variable at all.
const BRANCHES: &[(&str, &str)] = &[
    // An S3 store reads OBJECT_STORE_S3_*; a local directory does not.
    ("OBJECT_STORE_URL", "s3://placeholder-bucket"),
];

/// Variables read straight from the process by libraries, not through `Env`, so recording
/// cannot see them. Every service installs `platform_telemetry`, so all read these. Not every
/// name those libraries know (the OpenTelemetry SDK reads dozens): the ones a deployment is
/// likely to set. Add one here before setting it in docker-compose.yml or k8s/.
const READ_BY_LIBRARIES: &[&str] = &[
    // tracing-subscriber's log layer: no ANSI colours when set.
    "NO_COLOR",
    // The OpenTelemetry SDK and its OTLP exporter, when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
];

/// How a service's binary loads its configuration.
type Load = fn(&Env) -> Result<(), ConfigError>;

fn main() -> anyhow::Result<()> {
    let mut report = Map::new();
    // Every service with a manifest (services/NAME/service.toml), loaded through its crate.
    for manifest in Manifest::all()? {
        let name = manifest.name;
        let load = services::find(&name)?.load;
        let required = required(load).with_context(|| format!("service {name}"))?;
        let reads = reads(load, &required).with_context(|| format!("service {name}"))?;
        let required: Vec<_> = required.iter().map(|(variable, _)| *variable).collect();
        report.insert(name, json!({ "reads": reads, "required": required }));
    }
    println!("{}", serde_json::to_string_pretty(&Value::Object(report))?);
    Ok(())
}

/// The variables without which `load` fails, each with its placeholder, found by adding what
/// each failure names; then each is checked to be required on its own.
fn required(load: Load) -> anyhow::Result<Vec<(&'static str, &'static str)>> {
    let mut set: Vec<(&str, &str)> = Vec::new();
    loop {
        match load(&Env::from_pairs(set.iter().copied())) {
            Ok(()) => break,
            Err(ConfigError::Missing { name }) => {
                let Some(placeholder) = PLACEHOLDERS.iter().find(|(n, _)| *n == name) else {
                    bail!("{name} is required: add a valid placeholder for it to PLACEHOLDERS");
                };
                // A variable named again after it was set would loop forever.
                if set.contains(placeholder) {
                    bail!("{name} is reported missing although it is set");
                }
                set.push(*placeholder);
            }
            Err(e) => bail!("a placeholder is not a valid value: {e}"),
        }
    }
    for (i, (name, _)) in set.iter().enumerate() {
        let without = set.iter().enumerate().filter(|(j, _)| *j != i);
        match load(&Env::from_pairs(without.map(|(_, pair)| *pair))) {
            Err(ConfigError::Missing { name: missing }) if missing == *name => {}
            other => bail!("{name} should be required, but without it loading gave {other:?}"),
        }
    }
    set.sort_unstable();
    Ok(set)
}

/// Every variable `load` reads with only `required` set, on each branch of [`BRANCHES`] it
/// takes, plus [`READ_BY_LIBRARIES`].
fn reads(load: Load, required: &[(&str, &str)]) -> anyhow::Result<BTreeSet<String>> {
    let base = Env::from_pairs(required.iter().copied());
    load(&base)?;
    let mut names: BTreeSet<String> = base.names_read().into_iter().collect();
    for (variable, value) in BRANCHES {
        if names.contains(*variable) {
            let branch =
                Env::from_pairs(required.iter().copied()).with_overrides(&[(variable, value)]);
            load(&branch).with_context(|| format!("with {variable}={value}"))?;
            names.extend(branch.names_read());
        }
    }
    names.extend(READ_BY_LIBRARIES.iter().map(|name| (*name).to_owned()));
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> Load {
        services::find(name).unwrap().load
    }

    #[test]
    fn required_variables_are_found_by_construction() {
        let media = required(load("media")).unwrap();
        let names: Vec<_> = media.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["DATABASE_URL", "KAFKA_BROKERS"]);
        assert!(required(load("gateway")).unwrap().is_empty());
    }

    #[test]
    fn reads_include_other_branches_and_library_names() {
        let media = reads(load("media"), &required(load("media")).unwrap()).unwrap();
        for name in [
            "OBJECT_STORE_URL",
            "OBJECT_STORE_S3_ENDPOINT",
            "RUST_LOG",
            "NO_COLOR",
        ] {
            assert!(media.contains(name), "{name} missing from {media:?}");
        }
        assert!(!media.contains("USER_SHARDS"));
    }
}
