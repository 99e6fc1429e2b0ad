//! Where a new service is added to hand-written files: devstack, the one place that names
//! each service's crate (its dependency in `Cargo.toml` and its line in `SERVICES` in
//! `src/services.rs`). Each edit is an insertion at an anchor; a missing anchor is a
//! refusal naming the file.
//!
//! Nothing else lists services by hand: `libs/proto` finds its contract, and the files that
//! list every service (`docker-compose.yml`, Prometheus' targets, `.env.example`, the
//! Kubernetes lists of `k8s/services.py`, the configuration reference) are regenerated from
//! the manifests by `just new-service` after this.

use std::path::Path;

use crate::edits::{insert_after_line, insert_before_block_end};
use crate::names::ServiceName;
use crate::{Changes, refuse};

/// Adds the service `name` to devstack: its crate as a dependency, and its line in
/// `src/services.rs`.
pub fn wire(root: &Path, name: &ServiceName, changes: &mut Changes) -> anyhow::Result<()> {
    let (kebab, snake) = (name.kebab(), name.snake());
    edit(
        root,
        changes,
        "tools/devstack/Cargo.toml",
        "the service crates' `path = \"../../services/…\"` lines",
        |text| {
            let last = text
                .lines()
                .rfind(|l| l.contains("{ path = \"../../services/"))?
                .to_owned();
            insert_after_line(
                text,
                |l| l == last,
                &format!("{kebab}-service = {{ path = \"../../services/{kebab}\" }}\n"),
            )
        },
    )?;
    edit(
        root,
        changes,
        "tools/devstack/src/services.rs",
        "the `pub const SERVICES` list",
        |text| {
            insert_before_block_end(
                text,
                |l| l.starts_with("pub const SERVICES"),
                |l| l == "];",
                &format!("    service::<::{snake}_service::App>(),\n"),
            )
        },
    )?;
    Ok(())
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
