//! `scaffold rename-platform NEW_NAME`: gives a fork its own name in one step.
//!
//! In every file git tracks, the platform's name is replaced where it is an identifier, not
//! where it is English ("the platform" stays):
//!
//! | form | example | becomes (NEW_NAME `acme-shop`) |
//! |---|---|---|
//! | crate and package prefix | `platform-config`, `platform_config::Env` | `acme-shop-config`, `acme_shop_config::Env` |
//! | image names | `platform/auth:dev` | `acme-shop/auth:dev` |
//! | database names | `platform_user_eu` | `acme_shop_user_eu` |
//! | a value of its own | `part-of: platform`, `namespace: platform`, `"platform"` | `part-of: acme-shop`, … |
//! | a title | `"Platform API"`, Grafana's `Platform` folder | `"Acme Shop API"` |
//!
//! Proto packages carry no platform prefix (`auth.v1`, `user.v1`): they name the contract,
//! not the product, so they are unchanged and a fork stays wire-compatible. `Cargo.lock` is
//! not edited as text: `cargo update --workspace` re-locks the renamed workspace crates and
//! keeps every other crate at its locked version.
//!
//! The name being replaced is [`CURRENT`], which this file's own rename keeps in step: a
//! renamed fork can be renamed again.

use std::path::Path;
use std::process::Command;

use crate::names::PlatformName;
use crate::{Changes, refuse};

/// The platform's name today.
pub const CURRENT: &str = "platform";

/// Renames the platform under `root` to `raw_name`; returns a summary for the terminal.
pub fn run(root: &Path, raw_name: &str) -> anyhow::Result<String> {
    let name = PlatformName::parse(raw_name)?;
    if name.kebab() == CURRENT {
        return refuse(format!("the platform is already called {CURRENT:?}"));
    }
    let status = git(root, &["status", "--porcelain"])?;
    if !status.trim().is_empty() {
        return refuse(
            "the working tree has uncommitted changes: commit or stash them first, so the \
             rename is one diff you can review (git diff) or undo (git checkout .)",
        );
    }
    let mut changes = Changes::default();
    let mut replaced = 0;
    // Cargo.lock is left to cargo (below): it also names other people's crates.
    for path in git(root, &["ls-files"])?
        .lines()
        .filter(|p| *p != "Cargo.lock")
    {
        let Ok(text) = std::fs::read_to_string(root.join(path)) else {
            continue; // not UTF-8: an image or a binary fixture
        };
        let (renamed, count) = rename_text(&text, &name);
        if count > 0 {
            replaced += count;
            changes.write(path, renamed);
        }
    }
    if replaced == 0 {
        return refuse(format!(
            "no identifier named {CURRENT:?} found; nothing to rename"
        ));
    }
    let written = changes.apply(root)?;
    // The workspace's crates have new names: cargo re-locks them, and only them.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let relock = Command::new(cargo)
        .args(["update", "--workspace", "--quiet"])
        .current_dir(root)
        .status()?;
    if !relock.success() {
        anyhow::bail!("`cargo update --workspace` failed after the rename; see its message above");
    }
    Ok(format!(
        "renamed {CURRENT:?} to {:?}: {replaced} replacements in {} files; review with `git diff`, \
         then build (cargo build --workspace)",
        name.kebab(),
        written.len()
    ))
}

/// `text` with every identifier use of [`CURRENT`] (and its title-case form) renamed, and
/// how many there were.
///
/// ```
/// use platform_scaffold::names::PlatformName;
/// use platform_scaffold::rename_platform::rename_text;
/// let name = PlatformName::parse("acme").unwrap();
/// let (out, n) = rename_text("use platform_config; // the platform\nimage: platform/auth\n", &name);
/// assert_eq!(out, "use acme_config; // the platform\nimage: acme/auth\n");
/// assert_eq!(n, 2);
/// ```
pub fn rename_text(text: &str, name: &PlatformName) -> (String, usize) {
    rename_text_from(text, CURRENT, name)
}

/// [`rename_text`] from any current name (a hyphenated one has three forms to find).
fn rename_text_from(text: &str, current: &str, name: &PlatformName) -> (String, usize) {
    let current_snake = current.replace('-', "_");
    let title = title_words(current);
    let new_title = title_words(name.kebab());
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut rest = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let lower = text[i..].starts_with(current) || text[i..].starts_with(&current_snake);
        let upper = text[i..].starts_with(&title);
        // `-` before it too: `rustls-platform-verifier` is someone else's name.
        if !(lower || upper) || (i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == b'-')) {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let end = i + if upper { title.len() } else { current.len() };
        let next = bytes.get(end).copied();
        if next.is_some_and(|b| b.is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let before = &text[..i];
        let replacement = if lower {
            match next {
                Some(b'-' | b'/') => Some(name.kebab().to_owned()),
                Some(b'_') => Some(name.snake()),
                _ if is_value_position(before) => Some(name.kebab().to_owned()),
                _ => None,
            }
        } else if is_value_position(before) || before.ends_with('[') {
            Some(new_title.clone())
        } else {
            None
        };
        if let Some(replacement) = replacement {
            out.push_str(&text[rest..i]);
            out.push_str(&replacement);
            rest = end;
            count += 1;
        }
        i = end;
    }
    out.push_str(&text[rest..]);
    (out, count)
}

/// Right after `"`, `` ` ``, `=`, `: ` or `-n `: a value, a label or a namespace, not prose.
fn is_value_position(before: &str) -> bool {
    before.ends_with(['"', '`', '='])
        || before.ends_with(": ")
        || before.ends_with("-n ")
        || before.ends_with("- ")
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `acme-shop` → `Acme Shop`: the name in a title.
fn title_words(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn git(root: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git").args(args).current_dir(root).output()?;
    if !output.status.success() {
        return refuse(format!(
            "`git {}` failed in {}: the rename works on a git checkout ({})",
            args.join(" "),
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8(output.stdout)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests rename from a name of their own, so they mean the same after this file has
    /// itself been renamed; a hyphenated one, so every form (`-`, `_`, title) is exercised.
    const OLD: &str = "zeta-corp";

    fn rename(text: &str) -> String {
        rename_text_from(text, OLD, &PlatformName::parse("nova-labs").unwrap()).0
    }

    #[test]
    fn identifiers_are_renamed_in_each_form() {
        for (before, after) in [
            (
                "zeta-corp-config.workspace = true",
                "nova-labs-config.workspace = true",
            ),
            (
                "use zeta_corp_grpc::GrpcServer;",
                "use nova_labs_grpc::GrpcServer;",
            ),
            (
                "image: example.com/zeta-corp/auth:0.1",
                "image: example.com/nova-labs/auth:0.1",
            ),
            (
                "  app.kubernetes.io/part-of: zeta-corp\n",
                "  app.kubernetes.io/part-of: nova-labs\n",
            ),
            ("namespace: zeta-corp-dev", "namespace: nova-labs-dev"),
            (
                r#"env.or("AUD", "zeta-corp".to_owned())"#,
                r#"env.or("AUD", "nova-labs".to_owned())"#,
            ),
            (
                "kubectl -n zeta-corp rollout",
                "kubectl -n nova-labs rollout",
            ),
            (
                r#""title": "Zeta Corp / Services (RED)""#,
                r#""title": "Nova Labs / Services (RED)""#,
            ),
            ("database zeta_corp_user_eu", "database nova_labs_user_eu"),
            ("§9 → zeta-corp-x, naïve", "§9 → nova-labs-x, naïve"),
        ] {
            assert_eq!(rename(before), after);
        }
    }

    #[test]
    fn prose_and_other_words_are_left_alone() {
        for text in [
            "the zeta-corp way",
            "Zeta Corp engineering",
            "zeta-corps",
            "a cross_zeta_corp_thing",
            "rustls-zeta-corp-verifier",
            "zeta-corp = {\"gateway\"}",
        ] {
            assert_eq!(rename(text), text);
        }
    }

    #[test]
    fn the_current_name_is_the_one_the_workspace_uses() {
        let (out, n) = rename_text(
            &format!("use {}_config;", CURRENT.replace('-', "_")),
            &PlatformName::parse("nova-labs").unwrap(),
        );
        assert_eq!((out.as_str(), n), ("use nova_labs_config;", 1));
    }
}
