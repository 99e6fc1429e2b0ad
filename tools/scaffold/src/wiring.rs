//! Where a new service is added to files that list services: its crate in the workspace,
//! `libs/proto` and devstack, one line in the Kubernetes base, its values in the overlays,
//! its section of `.env.example` and its README row. Each edit is an insertion at an anchor;
//! a missing anchor is a refusal naming the file.

use std::path::Path;

use crate::edits::{
    append, append_to_yaml_block, insert_after_line, insert_before_block_end, insert_before_line,
};
use crate::names::ServiceName;
use crate::templates::{self, render};
use crate::{Changes, refuse};

/// Adds the service `name` everywhere it is listed (see the module's doc).
pub fn wire(
    root: &Path,
    name: &ServiceName,
    vars: &[(&str, String)],
    changes: &mut Changes,
) -> anyhow::Result<()> {
    wire_crates(root, name, changes)?;
    wire_devstack(root, name, vars, changes)?;
    wire_docs(root, name, vars, changes)?;
    wire_dev(root, name, vars, changes)?;
    wire_prod(root, name, changes)?;
    wire_prod_access(root, name, vars, changes)
}

/// The crate's entries in the workspace and `libs/proto`.
fn wire_crates(root: &Path, name: &ServiceName, changes: &mut Changes) -> anyhow::Result<()> {
    let (kebab, snake) = (name.kebab(), name.snake());
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
    Ok(())
}

/// Devstack: the crate as a dependency, and its line and module in `src/services.rs`.
fn wire_devstack(
    root: &Path,
    name: &ServiceName,
    vars: &[(&str, String)],
    changes: &mut Changes,
) -> anyhow::Result<()> {
    let (kebab, snake) = (name.kebab(), name.snake());
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
            &render(templates::DEVSTACK_MODULE, vars),
        )
    })?;
    Ok(())
}

/// Its section of `.env.example` and its row in the README.
fn wire_docs(
    root: &Path,
    name: &ServiceName,
    vars: &[(&str, String)],
    changes: &mut Changes,
) -> anyhow::Result<()> {
    let (kebab, snake, pascal) = (name.kebab(), name.snake(), name.pascal());
    edit(
        root,
        changes,
        ".env.example",
        "the `# Tests (libs/testkit)` section",
        |text| {
            let rule = "# ".to_owned() + &"-".repeat(87) + "\n";
            let at = text.find(&format!("{rule}# Tests (libs/testkit)"))?;
            let section = render(templates::ENV_EXAMPLE_SECTION, vars).replace("RULE\n", &rule);
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

/// The Kubernetes base (one line) and the dev overlay.
fn wire_dev(
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
    Ok(())
}

/// The prod overlay: its image and its replica bounds.
fn wire_prod(root: &Path, name: &ServiceName, changes: &mut Changes) -> anyhow::Result<()> {
    let kebab = name.kebab();
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
    Ok(())
}

/// Production's access: the egress to its managed database, and its Secret in `k8s/live/prod`.
fn wire_prod_access(
    root: &Path,
    name: &ServiceName,
    vars: &[(&str, String)],
    changes: &mut Changes,
) -> anyhow::Result<()> {
    let kebab = name.kebab();
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
