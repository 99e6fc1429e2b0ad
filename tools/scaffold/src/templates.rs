//! The files a new service starts from, embedded in the binary, and the one way they are
//! filled in: `{{name}}`, `{{snake}}`, `{{Pascal}}`, `{{UPPER}}`, `{{grpc_port}}`,
//! `{{ops_port}}` and `{{cidr_host}}` are replaced; nothing else is interpreted.

/// A new service's files: (path with `NAME`/`SNAKE` standing for the name's forms, template).
pub const SERVICE_FILES: &[(&str, &str)] = &[
    (
        "services/NAME/Cargo.toml",
        include_str!("../templates/service/Cargo.toml.tmpl"),
    ),
    (
        "services/NAME/src/lib.rs",
        include_str!("../templates/service/src/lib.rs.tmpl"),
    ),
    (
        "services/NAME/src/main.rs",
        include_str!("../templates/service/src/main.rs.tmpl"),
    ),
    (
        "services/NAME/src/app.rs",
        include_str!("../templates/service/src/app.rs.tmpl"),
    ),
    (
        "services/NAME/src/cli.rs",
        include_str!("../templates/service/src/cli.rs.tmpl"),
    ),
    (
        "services/NAME/src/routes.rs",
        include_str!("../templates/service/src/routes.rs.tmpl"),
    ),
    (
        "services/NAME/src/config.rs",
        include_str!("../templates/service/src/config.rs.tmpl"),
    ),
    (
        "services/NAME/src/error.rs",
        include_str!("../templates/service/src/error.rs.tmpl"),
    ),
    (
        "services/NAME/src/controller/mod.rs",
        include_str!("../templates/service/src/controller/mod.rs.tmpl"),
    ),
    (
        "services/NAME/src/controller/items.rs",
        include_str!("../templates/service/src/controller/items.rs.tmpl"),
    ),
    (
        "services/NAME/src/service/mod.rs",
        include_str!("../templates/service/src/service/mod.rs.tmpl"),
    ),
    (
        "services/NAME/src/service/items.rs",
        include_str!("../templates/service/src/service/items.rs.tmpl"),
    ),
    (
        "services/NAME/src/service/validation.rs",
        include_str!("../templates/service/src/service/validation.rs.tmpl"),
    ),
    (
        "services/NAME/src/data/mod.rs",
        include_str!("../templates/service/src/data/mod.rs.tmpl"),
    ),
    (
        "services/NAME/src/data/migrations.rs",
        include_str!("../templates/service/src/data/migrations.rs.tmpl"),
    ),
    (
        "services/NAME/src/data/items.rs",
        include_str!("../templates/service/src/data/items.rs.tmpl"),
    ),
    (
        "services/NAME/tests/api/main.rs",
        include_str!("../templates/service/tests/api/main.rs.tmpl"),
    ),
    (
        "services/NAME/tests/api/helpers.rs",
        include_str!("../templates/service/tests/api/helpers.rs.tmpl"),
    ),
    (
        "services/NAME/tests/api/items.rs",
        include_str!("../templates/service/tests/api/items.rs.tmpl"),
    ),
    (
        "services/NAME/tests/api/lifecycle.rs",
        include_str!("../templates/service/tests/api/lifecycle.rs.tmpl"),
    ),
    (
        // The directory is the package (`loyalty_points.v1`), as buf's PACKAGE_DIRECTORY_MATCH
        // lint requires (`just proto`).
        "proto/SNAKE/v1/SNAKE.proto",
        include_str!("../templates/proto/service.proto.tmpl"),
    ),
    (
        "migrations/NAME/0001_items.sql",
        include_str!("../templates/migrations/0001_items.sql.tmpl"),
    ),
    (
        "services/NAME/k8s/configmap.yaml",
        include_str!("../templates/k8s/configmap.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/secret.yaml",
        include_str!("../templates/k8s/secret.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/service.yaml",
        include_str!("../templates/k8s/service.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/deployment.yaml",
        include_str!("../templates/k8s/deployment.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/hpa.yaml",
        include_str!("../templates/k8s/hpa.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/pdb.yaml",
        include_str!("../templates/k8s/pdb.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/migrate-job.yaml",
        include_str!("../templates/k8s/migrate-job.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/network.yaml",
        include_str!("../templates/k8s/network.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/kustomization.yaml",
        include_str!("../templates/k8s/kustomization.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/dev/kustomization.yaml",
        include_str!("../templates/k8s/dev/kustomization.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/dev/postgres.yaml",
        include_str!("../templates/k8s/dev/postgres.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/dev/network.yaml",
        include_str!("../templates/k8s/dev/network.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/prod/kustomization.yaml",
        include_str!("../templates/k8s/prod/kustomization.yaml.tmpl"),
    ),
    (
        "services/NAME/k8s/prod/network-egress.yaml",
        include_str!("../templates/k8s/prod/network-egress.yaml.tmpl"),
    ),
    (
        "services/NAME/service.toml",
        include_str!("../templates/deploy/service.toml.tmpl"),
    ),
    (
        "services/NAME/compose.yml",
        include_str!("../templates/deploy/compose.yml.tmpl"),
    ),
    (
        // Its section of `.env.example`, which `just compose` (deploy/compose.py) writes.
        "services/NAME/env.example",
        include_str!("../templates/deploy/env.example.tmpl"),
    ),
    (
        "services/NAME/k8s/prod/secrets.env.example",
        include_str!("../templates/dev/live-secrets.env.example.tmpl"),
    ),
    (
        "docs/services/NAME.md",
        include_str!("../templates/docs/service.md.tmpl"),
    ),
];

/// Replaces every `{{key}}` of `vars` in `template`.
///
/// ```ignore
/// assert_eq!(render("{{a}}-{{a}}", &[("a", "x".into())]), "x-x");
/// ```
pub fn render(template: &str, vars: &[(&str, String)]) -> String {
    vars.iter().fold(template.to_owned(), |text, (key, value)| {
        text.replace(&format!("{{{{{key}}}}}"), value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_replaces_every_placeholder_and_nothing_else() {
        let out = render(
            "pub use error::{{{Pascal}}Error}; {{name}} {{name}} {x}",
            &[("Pascal", "Billing".into()), ("name", "billing".into())],
        );
        assert_eq!(out, "pub use error::{BillingError}; billing billing {x}");
    }

    #[test]
    fn no_template_has_an_unknown_placeholder() {
        let known = [
            "name",
            "snake",
            "Pascal",
            "UPPER",
            "grpc_port",
            "ops_port",
            "cidr_host",
        ];
        let vars: Vec<_> = known.iter().map(|k| (*k, "x".to_owned())).collect();
        for (_, template) in SERVICE_FILES {
            let out = render(template, &vars);
            // `{{` may remain only as Rust's escaped braces inside format strings, which the
            // templates do not use.
            assert!(!out.contains("{{"), "unknown placeholder in:\n{template}");
        }
    }
}
