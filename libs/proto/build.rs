//! Compiles every `.proto` under the workspace's `proto/` with protox, a pure-Rust compiler,
//! so no `protoc` binary is needed on any machine.
//!
//! The files are found, not listed: every `proto/PACKAGE/vN/*.proto` is compiled, and each
//! package becomes the module `PACKAGE::vN` (written to `OUT_DIR/modules.rs`, which
//! `src/lib.rs` includes), so a new contract needs no edit here.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read when the script runs, not baked in when it is compiled: a copy of the workspace
    // sharing this target directory (CI's generated-service step) reuses the compiled script.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    // The directory too: cargo then reruns the script when a file is added or removed.
    println!("cargo:rerun-if-changed={}", root.display());
    let files = proto_files(&root)?;
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let descriptors = protox::compile(&files, [&root])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("modules.rs");
    std::fs::write(out, modules(&root, &files)?)?;
    Ok(())
}

/// `root/PACKAGE/vN/*.proto`, sorted so the build is the same on every machine.
fn proto_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for package in sorted_dirs(root)? {
        for version in sorted_dirs(&package)? {
            let is_version = version
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('v'));
            if !is_version {
                continue;
            }
            for entry in std::fs::read_dir(&version)? {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "proto") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

fn sorted_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// One `pub mod PACKAGE { pub mod vN { … } }` per package directory, documented with the
/// package's name and its files' leading comments (a paragraph each).
fn modules(root: &Path, files: &[PathBuf]) -> std::io::Result<String> {
    let mut packages: Vec<(String, String, Vec<String>)> = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root).expect("found under root");
        let mut parts = relative.iter().map(|p| p.to_string_lossy().into_owned());
        let (package, version) = (parts.next().expect("dir"), parts.next().expect("dir"));
        let same = matches!(packages.last(), Some((p, v, _)) if *p == package && *v == version);
        if !same {
            packages.push((package, version, Vec::new()));
        }
        let docs = &mut packages.last_mut().expect("pushed").2;
        // One paragraph per file.
        docs.push(String::new());
        docs.extend(leading_comment(&std::fs::read_to_string(file)?));
    }
    let mut out = String::new();
    for (package, version, docs) in packages {
        let _ = writeln!(
            out,
            "#[doc = {:?}]",
            format!(" Package `{package}.{version}`.")
        );
        for line in docs {
            let _ = writeln!(out, "#[doc = {:?}]", format!(" {line}").trim_end());
        }
        let _ = writeln!(
            out,
            "pub mod {package} {{\n    pub mod {version} {{\n        \
             tonic::include_proto!(\"{package}.{version}\");\n    }}\n}}\n"
        );
    }
    Ok(out)
}

/// The `//` comment lines a `.proto` file starts with, without their `//`.
fn leading_comment(text: &str) -> Vec<String> {
    text.lines()
        .map_while(|line| line.strip_prefix("//"))
        .map(|line| line.trim().to_owned())
        .collect()
}
