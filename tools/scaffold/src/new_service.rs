//! `scaffold new-service NAME`: a new gRPC service with its own database, wired into every
//! place the platform lists its services, ready to build, lint and test without an edit.
//!
//! What it writes (see `docs/guides/forking.md` for the walk-through):
//!
//! - new files: `services/NAME` (routes, controller, service, data, config, error, tests, and
//!   what describes it to the rest of the repository: its manifest `service.toml`, its compose
//!   fragment `compose.yml` and its Kubernetes kustomization `k8s/`), `proto/SNAKE/v1` (the
//!   package's directory), `migrations/NAME`, `k8s/live/prod/secrets/NAME.env.example`,
//!   `docs/services/NAME.md`;
//! - entries in: the workspace `Cargo.toml`, `libs/proto` (build list and module), devstack
//!   (its dependency and its line in `src/services.rs`), the Kubernetes base (one line), dev
//!   and prod overlays and `k8s/live/prod`, `.env.example` and the README. `just new-service`
//!   then regenerates docker-compose.yml and Prometheus' targets (`just compose`) and the
//!   configuration reference.
//!
//! Everything is computed first; if any name is taken or any anchor is missing, nothing is
//! written.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::edits::{
    append, append_to_yaml_block, insert_after_line, insert_before_block_end, insert_before_line,
};
use crate::names::ServiceName;
use crate::templates::{self, render};
use crate::{Changes, refuse};

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
    wire_workspace(root, &name, &vars, &mut changes)?;
    wire_deployment(root, &name, &vars, &mut changes)?;
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
    let workspace = std::fs::read_to_string(root.join("Cargo.toml"))?;
    if workspace.contains(&format!("\n{kebab}-service = ")) {
        return refuse(format!(
            "Cargo.toml already has a crate named {kebab}-service; pick another name"
        ));
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
    let egress =
        std::fs::read_to_string(root.join("k8s/overlays/prod/patches/network-egress.yaml"))
            .unwrap_or_default();
    let cidr_host = egress
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

/// The unsigned integers written in `text`, in order.
fn integers(text: &str) -> impl Iterator<Item = u32> + '_ {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
}

/// Edits `path` with `edit`, or refuses naming the file and the anchor it looked for.
fn edit(
    root: &Path,
    changes: &mut Changes,
    path: &str,
    anchor: &str,
    edit: impl FnOnce(&str) -> Option<String>,
) -> anyhow::Result<()> {
    let text = changes.read(root, path)?;
    match edit(&text) {
        Some(new) => {
            changes.write(path, new);
            Ok(())
        }
        None => refuse(format!(
            "cannot find {anchor} in {path}; it is where the new service is added (restore it, \
             or add the entry by hand following docs/guides/forking.md)"
        )),
    }
}

/// Cargo, protobuf, devstack, `.env.example` and README.
fn wire_workspace(
    root: &Path,
    name: &ServiceName,
    vars: &[(&str, String)],
    changes: &mut Changes,
) -> anyhow::Result<()> {
    let (kebab, snake, pascal) = (name.kebab(), name.snake(), name.pascal());
    edit(
        root,
        changes,
        "Cargo.toml",
        "the `# our own crates` block",
        |text| {
            let mut lines = text.lines().skip_while(|l| *l != "# our own crates");
            lines.next()?;
            let last = lines
                .take_while(|l| !l.trim().is_empty())
                .last()?
                .to_owned();
            insert_after_line(
                text,
                |l| l == last,
                &format!("{kebab}-service = {{ path = \"services/{kebab}\" }}\n"),
            )
        },
    )?;
    edit(
        root,
        changes,
        "libs/proto/build.rs",
        "the `let files = [` list",
        |text| {
            insert_before_block_end(
                text,
                |l| l.trim_start().starts_with("let files = ["),
                |l| l.trim_start().starts_with(']'),
                &format!("        \"{snake}/v1/{snake}.proto\",\n"),
            )
        },
    )?;
    edit(
        root,
        changes,
        "libs/proto/src/lib.rs",
        "the end of the file",
        |text| {
            Some(append(
                text,
                &format!(
                    "\n/// Package `{snake}.v1`: the {kebab} service.\npub mod {snake} {{\n    pub mod v1 {{\n        tonic::include_proto!(\"{snake}.v1\");\n    }}\n}}\n"
                ),
            ))
        },
    )?;
    edit(
        root,
        changes,
        "tools/devstack/Cargo.toml",
        "the `[dependencies]` line",
        |text| {
            insert_after_line(
                text,
                |l| l == "[dependencies]",
                &format!("{kebab}-service.workspace = true\n"),
            )
        },
    )?;
    let services = "tools/devstack/src/services.rs";
    edit(
        root,
        changes,
        services,
        "the `pub const SERVICES` list",
        |text| {
            insert_before_block_end(
                text,
                |l| l.starts_with("pub const SERVICES"),
                |l| l == "];",
                &format!("    service!(\"{kebab}\", {snake}),\n"),
            )
        },
    )?;
    edit(root, changes, services, "its `#[cfg(test)]` line", |text| {
        insert_before_line(
            text,
            |l| l == "#[cfg(test)]",
            &render(DEVSTACK_MODULE, vars),
        )
    })?;
    edit(
        root,
        changes,
        ".env.example",
        "the `# Tests (libs/testkit)` section",
        |text| {
            let rule = "# ".to_owned() + &"-".repeat(87) + "\n";
            let at = text.find(&format!("{rule}# Tests (libs/testkit)"))?;
            let section = render(ENV_EXAMPLE_SECTION, vars).replace("RULE\n", &rule);
            Some(format!("{}{section}{}", &text[..at], &text[at..]))
        },
    )?;
    edit(
        root,
        changes,
        "README.md",
        "the `services/` rows of the table",
        |text| {
            let last = text
                .lines()
                .rfind(|l| l.starts_with("| `services/"))?
                .to_owned();
            insert_after_line(
                text,
                |l| l == last,
                &format!(
                    "| `services/{kebab}` | gRPC (`{snake}.v1.{pascal}Service`) with its own Postgres; generated by `just new-service {kebab}`: see [docs/services/{kebab}.md](docs/services/{kebab}.md) |\n"
                ),
            )
        },
    )?;
    Ok(())
}

/// The Kubernetes base, overlays and live prod.
fn wire_deployment(
    root: &Path,
    name: &ServiceName,
    vars: &[(&str, String)],
    changes: &mut Changes,
) -> anyhow::Result<()> {
    let kebab = name.kebab();
    edit(
        root,
        changes,
        "k8s/base/kustomization.yaml",
        "`resources:`",
        |text| {
            append_to_yaml_block(
                text,
                "resources",
                &format!("  - ../../services/{kebab}/k8s\n"),
            )
        },
    )?;

    let dev = "k8s/overlays/dev/kustomization.yaml";
    edit(root, changes, dev, "`images:`", |text| {
        append_to_yaml_block(
            text,
            "images",
            &format!("  - name: platform/{kebab}\n    newTag: dev\n"),
        )
    })?;
    edit(root, changes, dev, "`secretGenerator:`", |text| {
        append_to_yaml_block(
            text,
            "secretGenerator",
            &format!(
                "  - name: {kebab}-secrets\n    behavior: replace\n    literals:\n      - DATABASE_URL=postgres://postgres:dev-only-password@postgres-{kebab}:5432/{}\n",
                name.snake()
            ),
        )
    })?;
    edit(
        root,
        changes,
        "k8s/overlays/dev/deps/postgres.yaml",
        "the end of the file",
        |text| Some(append(text, &render(templates::DEV_POSTGRES, vars))),
    )?;
    edit(
        root,
        changes,
        "k8s/overlays/dev/deps/network.yaml",
        "the end of the file",
        |text| Some(append(text, &render(templates::DEV_NETWORK, vars))),
    )?;
    edit(
        root,
        changes,
        "k8s/overlays/prod/kustomization.yaml",
        "`images:`",
        |text| {
            append_to_yaml_block(
                text,
                "images",
                &format!(
                    "  - name: platform/{kebab}\n    newName: registry.example.com/platform/{kebab}\n    newTag: 0.1.0\n"
                ),
            )
        },
    )?;
    // The prod patches that set the gRPC services' replica floors and disruption budgets
    // target them by a name pattern (`name: gateway|auth|user|media`): the new one joins.
    edit(
        root,
        changes,
        "k8s/overlays/prod/kustomization.yaml",
        "a patch target `name:` with a `|` pattern",
        |text| {
            let mut found = false;
            let lines: Vec<String> = text
                .split('\n')
                .map(|line| {
                    let pattern = line.trim_start().strip_prefix("name: ");
                    if pattern.is_some_and(|p| p.contains('|') && !p.contains(' ')) {
                        found = true;
                        format!("{line}|{kebab}")
                    } else {
                        line.to_owned()
                    }
                })
                .collect();
            found.then(|| lines.join("\n"))
        },
    )?;
    edit(
        root,
        changes,
        "k8s/overlays/prod/patches/network-egress.yaml",
        "the end of the file",
        |text| Some(append(text, &render(templates::PROD_NETWORK_EGRESS, vars))),
    )?;
    edit(
        root,
        changes,
        "k8s/live/prod/kustomization.yaml",
        "`secretGenerator:`",
        |text| {
            append_to_yaml_block(
                text,
                "secretGenerator",
                &format!(
                    "  - name: {kebab}-secrets\n    behavior: replace\n    envs:\n      - secrets/{kebab}.env\n"
                ),
            )
        },
    )?;
    Ok(())
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

/// Devstack: how it loads, migrates and starts the service (`tools/devstack/src/services.rs`).
const DEVSTACK_MODULE: &str = r#"mod {{snake}} {
    use super::*;

    pub fn load(env: &Env) -> Result<(), ConfigError> {
        ::{{snake}}_service::Settings::from_env(env).map(drop)
    }

    pub async fn migrate(env: Env) -> anyhow::Result<()> {
        let settings = ::{{snake}}_service::Settings::from_env(&env)?;
        ::{{snake}}_service::data::migrate(&settings.database_url, &settings.database).await
    }

    pub async fn start(env: Env) -> anyhow::Result<Serve> {
        let settings = ::{{snake}}_service::Settings::from_env(&env)?;
        let app = ::{{snake}}_service::App::build(settings).await?;
        Ok(serve(move |stop| app.run_until(stop.cancelled_owned())))
    }
}

"#;

/// Its section of `.env.example`, before the tests' one (`RULE` is the separator line).
const ENV_EXAMPLE_SECTION: &str = "RULE
# {{name}} (services/{{name}}/src/config.rs)
RULE
# OTEL_SERVICE_NAME={{name}}
# GRPC_PORT={{grpc_port}}
# OPS_PORT={{ops_port}}
# SECRET. Required: {{name}}'s Postgres. The native run uses platform_{{snake}} on the local server.
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/platform_{{snake}}

";
