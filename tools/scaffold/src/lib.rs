//! The workspace's generator: [`new_service`] and [`rename_platform`].
//!
//! Generation happens once. What it writes is ordinary code and YAML that the team owns from
//! then on; nothing here ever regenerates over it. Edits to existing files are insertions at
//! anchors (a list's end, a known line), so a team's own changes around them are kept.

pub mod edits;
pub mod names;
pub mod new_service;
pub mod rename_platform;
mod templates;
mod wiring;

use std::path::{Path, PathBuf};

/// A request the generator turns down (an existing or invalid name, a missing anchor), as
/// opposed to an I/O failure: `scaffold` exits 2 with its message.
#[derive(Debug)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// Refuses with `message`.
///
/// ```
/// let e = platform_scaffold::refuse::<()>("no").unwrap_err();
/// assert!(e.is::<platform_scaffold::Refusal>());
/// ```
pub fn refuse<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(Refusal(message.into()).into())
}

/// The nearest directory at or above the current one whose `Cargo.toml` has `[workspace]`.
pub fn workspace_root() -> anyhow::Result<PathBuf> {
    let start = std::env::current_dir()?;
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if std::fs::read_to_string(&manifest).is_ok_and(|s| s.contains("[workspace]")) {
            return Ok(dir.to_path_buf());
        }
    }
    refuse(format!(
        "no Cargo workspace at or above {}; run this inside the repository",
        start.display()
    ))
}

/// A set of file writes computed in full before any is made, so a refusal half-way leaves
/// the workspace untouched.
#[derive(Debug, Default)]
pub struct Changes {
    writes: Vec<(PathBuf, String)>,
}

impl Changes {
    /// Queues `contents` for `path` (relative to the root).
    pub fn write(&mut self, path: impl Into<PathBuf>, contents: impl Into<String>) {
        self.writes.push((path.into(), contents.into()));
    }

    /// The contents already queued for `path`, else the file's current contents.
    pub fn read(&self, root: &Path, path: &str) -> anyhow::Result<String> {
        if let Some((_, contents)) = self.writes.iter().rev().find(|(p, _)| p == Path::new(path)) {
            return Ok(contents.clone());
        }
        std::fs::read_to_string(root.join(path))
            .map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))
    }

    /// Writes everything, creating directories as needed; returns the paths written, each
    /// with whether it is new.
    pub fn apply(self, root: &Path) -> anyhow::Result<Vec<(PathBuf, bool)>> {
        let mut written: Vec<(PathBuf, bool)> = Vec::new();
        for (path, contents) in self.writes {
            let full = root.join(&path);
            let new = !full.exists();
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&full, contents)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            if !written.iter().any(|(p, _)| *p == path) {
                written.push((path, new));
            }
        }
        Ok(written)
    }
}
