//! `scaffold new-service NAME`: a new gRPC service with its own database, wired into every
//! place the platform lists its services, ready to build, lint and test without an edit.
//!
//! What it writes (see `docs/guides/forking.md` for the walk-through):
//!
//! - new files: `services/NAME` (routes, controller, service, data, config, error, tests, and
//!   what describes it to the rest of the repository: its manifest `service.toml`, its compose
//!   fragment `compose.yml`, its `.env.example` section `env.example`, its Kubernetes
//!   kustomization `k8s/` with its dev and prod values in `k8s/dev` and `k8s/prod`),
//!   `proto/SNAKE/v1` (the package's directory, which `libs/proto` finds by itself),
//!   `migrations/NAME`, `docs/services/NAME.md` (the production Secret's template is
//!   `services/NAME/k8s/prod/secrets.env.example`);
//! - entries in devstack, the one hand-written list of service crates (its dependency and its
//!   line in `src/services.rs`). `just new-service` then regenerates what lists
//!   every service from the manifests: docker-compose.yml, Prometheus' targets and
//!   `.env.example` (`just compose`), the Kubernetes lists (`just k8s-services`) and the
//!   configuration reference.
//!
//! Everything is computed first; if any name is taken or any anchor is missing, nothing is
//! written.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::names::ServiceName;
use crate::templates::{self, render};
use crate::{Changes, refuse, wiring};

/// Generates the service `raw_name` under `root`; returns a summary for the terminal.
pub fn run(root: &Path, raw_name: &str) -> anyhow::Result<String> {
    let name = ServiceName::parse(raw_name)?;
    refuse_if_taken(root, &name)?;
    let vars = vars(root, &name)?;
    // Checked before anything is written: the generated code is formatted with it.
    if Command::new("rustfmt").arg("--version").output().is_err() {
        return refuse(
            "rustfmt is not installed (rustup component add rustfmt); nothing was written",
        );
    }
    let mut changes = Changes::default();
    for (path, template) in templates::SERVICE_FILES {
        let path = path
            .replace("NAME", name.kebab())
            .replace("SNAKE", &name.snake());
        changes.write(path, render(template, &vars));
    }
    wiring::wire(root, &name, &mut changes)?;
    let written = changes.apply(root)?;
    let paths: Vec<_> = written.iter().map(|(path, _)| path.clone()).collect();
    format_rust(root, &paths)?;

    let grpc_port = &vars.iter().find(|(k, _)| *k == "grpc_port").expect("set").1;
    let (created, edited): (Vec<_>, Vec<_>) = written.iter().partition(|(_, new)| *new);
    let mut report = format!(
        "created the {kebab} service: gRPC {}.v1.{}Service on port {grpc_port}, {} new files in \
         services/{kebab}, proto/{snake}, migrations/{kebab} and docs/services; \
         added it to:\n",
        name.snake(),
        name.pascal(),
        created.len(),
        kebab = name.kebab(),
        snake = name.snake(),
    );
    for (path, _) in &edited {
        let _ = writeln!(report, "  {}", path.display());
    }
    let _ = write!(
        report,
        "next: cargo nextest run -p {0}-service; then make it yours, starting with \
         docs/services/{0}.md",
        name.kebab()
    );
    Ok(report)
}

/// A name is taken when anything the service would own already exists.
fn refuse_if_taken(root: &Path, name: &ServiceName) -> anyhow::Result<()> {
    let kebab = name.kebab();
    let paths = [
        format!("services/{kebab}"),
        format!("proto/{kebab}"),
        format!("proto/{}", name.snake()),
        format!("migrations/{kebab}"),
    ];
    if let Some(path) = paths.iter().find(|p| root.join(p).exists()) {
        return refuse(format!(
            "a service named {kebab:?} already exists ({path} is there); pick another name"
        ));
    }
    let compose = std::fs::read_to_string(root.join("docker-compose.yml")).unwrap_or_default();
    if compose
        .lines()
        .any(|l| l == format!("  {kebab}:") || l == format!("  {kebab}-migrate:"))
    {
        return refuse(format!(
            "docker-compose.yml already has a service named {kebab:?}; pick another name"
        ));
    }
    for manifest in ["Cargo.toml", "tools/devstack/Cargo.toml"] {
        let text = std::fs::read_to_string(root.join(manifest))?;
        if text.contains(&format!("\n{kebab}-service = ")) {
            return refuse(format!(
                "{manifest} already has a crate named {kebab}-service; pick another name"
            ));
        }
    }
    Ok(())
}

/// The placeholders' values; the ports are the next free ones after the existing services'.
fn vars(root: &Path, name: &ServiceName) -> anyhow::Result<Vec<(&'static str, String)>> {
    // The default ports, as every config.rs passes them: `…Settings::from_env(env, 50051)`,
    // `from_env_with_timeout(env, 50053, …)`. Other numbers (timeouts, limits) are not ports.
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(root.join("services"))? {
        let config = entry?.path().join("src/config.rs");
        if let Ok(text) = std::fs::read_to_string(config) {
            for call in ["from_env(env, ", "from_env_with_timeout(env, "] {
                numbers.extend(
                    text.split(call)
                        .skip(1)
                        .filter_map(|rest| integers(rest).next()),
                );
            }
        }
    }
    let next = |range: std::ops::RangeInclusive<u32>, first: u32| {
        numbers
            .iter()
            .filter(|n| range.contains(n))
            .max()
            .map_or(first, |n| n + 1)
    };
    let grpc_port = next(50051..=50999, 50051);
    let ops_port = next(9100..=9199, 9100);
    let cidr_host = prod_egress(root)?
        .split("192.0.2.")
        .skip(1)
        .filter_map(|rest| integers(rest).next())
        .max()
        .map_or(100, |n| n + 1);
    if cidr_host > 254 {
        return refuse("no placeholder address left in 192.0.2.0/24 for the prod egress policy");
    }
    Ok(vec![
        ("name", name.kebab().to_owned()),
        ("snake", name.snake()),
        ("Pascal", name.pascal()),
        ("UPPER", name.upper()),
        ("grpc_port", grpc_port.to_string()),
        ("ops_port", ops_port.to_string()),
        ("cidr_host", cidr_host.to_string()),
    ])
}

/// The prod egress policies, whose placeholder addresses a new service's must not reuse: the
/// overlay's (the shared stores) and every service's own (`services/*/k8s/prod`).
fn prod_egress(root: &Path) -> anyhow::Result<String> {
    let mut files = vec![root.join("k8s/overlays/prod/patches/network-egress.yaml")];
    for entry in std::fs::read_dir(root.join("services"))? {
        files.push(entry?.path().join("k8s/prod/network-egress.yaml"));
    }
    Ok(files
        .iter()
        .filter_map(|file| std::fs::read_to_string(file).ok())
        .collect())
}

/// The unsigned integers written in `text`, in order.
fn integers(text: &str) -> impl Iterator<Item = u32> + '_ {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
}

/// Formats the Rust files written, so the generated code passes `cargo fmt --check` whatever
/// the name's length. rustfmt ships with every Rust toolchain.
fn format_rust(root: &Path, written: &[std::path::PathBuf]) -> anyhow::Result<()> {
    let files: Vec<_> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| root.join(p))
        .collect();
    let status = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(&files)
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => anyhow::bail!("rustfmt failed ({s}) on the generated files"),
        Err(e) => anyhow::bail!("cannot run rustfmt ({e}); the files are written but unformatted"),
    }
}
