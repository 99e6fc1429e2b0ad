//! `new-service` against a copy of this very workspace: what a team sees when it runs it.
//! (CI also builds, lints and tests what it generates; see `.ci/run`.)

use std::path::{Path, PathBuf};

use platform_scaffold::{Refusal, new_service};

/// A throwaway copy of the workspace's sources (no `target/`, no `.git/`), removed on drop.
struct Copy(PathBuf);

impl Copy {
    fn new() -> Self {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let unique = format!(
            "scaffold-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        );
        let root = std::env::temp_dir().join(unique.replace(['(', ')'], ""));
        copy_tree(&source, &root, true);
        Self(root)
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// At the top (`top`), build output, git and devstack's local objects are left out.
fn copy_tree(from: &Path, to: &Path, top: bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if top && [".git", "target", "data"].iter().any(|skip| name == *skip) {
            continue;
        }
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&path, &to.join(&name), false);
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every file under `root`, with its contents, to compare before and after.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let contents = std::fs::read(&path).unwrap();
                files.push((path, contents));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_service_is_generated_and_listed_everywhere_and_its_name_is_then_taken() {
    let copy = Copy::new();
    let root = &copy.0;
    let existing = snapshot(root);
    let report = new_service::run(root, "loyalty-points").unwrap();
    // Of the files that were there, only devstack's list of crates is edited: everything else
    // about the service is in new files (the files that list every service are regenerated
    // from the manifests by the `just new-service` recipe, not by this).
    let after = snapshot(root);
    let edited: Vec<_> = existing
        .iter()
        .filter(|(path, contents)| after.iter().any(|(p, c)| p == path && c != contents))
        .map(|(path, _)| path.strip_prefix(root).unwrap().to_path_buf())
        .collect();
    assert_eq!(
        edited,
        [
            Path::new("tools/devstack/Cargo.toml"),
            Path::new("tools/devstack/src/services.rs")
        ]
    );
    assert!(
        report.contains("loyalty_points.v1.LoyaltyPointsService"),
        "{report}"
    );

    for path in [
        "services/loyalty-points/src/routes.rs",
        "services/loyalty-points/src/controller/items.rs",
        "services/loyalty-points/src/service/items.rs",
        "services/loyalty-points/src/data/items.rs",
        "services/loyalty-points/tests/api/items.rs",
        "proto/loyalty_points/v1/loyalty_points.proto",
        "migrations/loyalty-points/0001_items.sql",
        "services/loyalty-points/k8s/deployment.yaml",
        "services/loyalty-points/service.toml",
        "services/loyalty-points/compose.yml",
        "docs/services/loyalty-points.md",
    ] {
        assert!(
            !read(root, path).contains("{{"),
            "{path} has a placeholder left"
        );
    }
    let expectations = [
        (
            "tools/devstack/Cargo.toml",
            "loyalty-points-service = { path = \"../../services/loyalty-points\" }",
        ),
        (
            "tools/devstack/src/services.rs",
            "    service::<::loyalty_points_service::App>(),\n",
        ),
        (
            "services/loyalty-points/compose.yml",
            "  loyalty-points-migrate:",
        ),
        (
            "services/loyalty-points/compose.yml",
            "  postgres-loyalty-points-data:",
        ),
        ("services/loyalty-points/service.toml", "grpc = 50054"),
        ("services/loyalty-points/service.toml", "ops = 9105"),
        (
            "services/loyalty-points/k8s/dev/kustomization.yaml",
            "  - name: loyalty-points-secrets",
        ),
        (
            "services/loyalty-points/k8s/dev/postgres.yaml",
            "  name: postgres-loyalty-points\n",
        ),
        (
            "services/loyalty-points/k8s/prod/kustomization.yaml",
            "newName: registry.example.com/platform/loyalty-points",
        ),
        (
            "services/loyalty-points/k8s/prod/kustomization.yaml",
            "      kind: HorizontalPodAutoscaler\n      name: loyalty-points\n",
        ),
        (
            "services/loyalty-points/k8s/prod/network-egress.yaml",
            "  name: egress-postgres-loyalty-points\n",
        ),
        (
            "services/loyalty-points/env.example",
            "# loyalty-points (services/loyalty-points/src/config.rs)",
        ),
    ];
    for (path, expected) in expectations {
        assert!(
            read(root, path).contains(expected),
            "{path} lacks {expected:?}"
        );
    }
    let config = read(root, "services/loyalty-points/src/config.rs");
    assert!(
        config.contains("GrpcServerSettings::from_env(env, 50054)"),
        "the next free gRPC port"
    );
    assert!(
        config.contains("RuntimeSettings::from_env(env, 9105)"),
        "the next free ops port"
    );

    // Once generated, the name is taken: refused, and nothing changes.
    let before = snapshot(root);
    let again = new_service::run(root, "loyalty-points").unwrap_err();
    assert!(again.is::<Refusal>());
    assert!(again.to_string().contains("already exists"), "{again}");
    assert!(
        snapshot(root) == before,
        "a refused generation changed files"
    );
}

#[test]
fn an_invalid_or_existing_name_is_refused_before_anything_is_written() {
    let copy = Copy::new();
    let root = &copy.0;
    let before = snapshot(root);
    for (name, reason) in [
        ("Billing", "must start with a lowercase letter"),
        ("billing_v2", "only lowercase letters, digits and hyphens"),
        ("media", "already exists"),
        ("media-worker", "already exists"),
        ("events", "reserved"),
    ] {
        let e = new_service::run(root, name).unwrap_err();
        assert!(
            e.is::<Refusal>() && e.to_string().contains(reason),
            "{name}: {e}"
        );
    }
    assert!(snapshot(root) == before, "a refusal changed files");
}

#[test]
fn a_missing_anchor_is_named_and_nothing_is_written() {
    let copy = Copy::new();
    let root = &copy.0;
    let services = "tools/devstack/src/services.rs";
    let text = read(root, services).replace("pub const SERVICES", "pub const CRATES");
    std::fs::write(root.join(services), text).unwrap();
    let before = snapshot(root);
    let e = new_service::run(root, "billing").unwrap_err();
    assert!(e.to_string().contains(services), "{e}");
    assert!(snapshot(root) == before, "a refusal changed files");
}
