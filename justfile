# Tasks for this workspace. `pip install rust-just` gets `just`; `just --list` shows the recipes.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# Uses Postgres on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.
# Run the whole platform natively; the gateway is on http://127.0.0.1:8080.
up:
    cargo run -p platform-devstack

# Pids in data/run/; `just up-processes --release` for release binaries.
# Run every service, the worker and the broker as processes of their own, restarted on exit.
up-processes *FLAGS:
    cargo build --bins {{FLAGS}}
    target/{{ if FLAGS =~ "release" { "release" } else { "debug" } }}/devstack processes

# Every test, then the doc tests (needs Postgres and Redis on loopback).
test:
    cargo test --workspace --doc && cargo nextest run --workspace

# The fault suite against the running platform: processes killed, databases, Redis and the
# broker taken away, under load; every acknowledged write checked (docs/reliability.md).
faults *ARGS:
    cargo build --bins
    target/debug/faults {{ARGS}}

# Formatting and clippy, warnings as errors.
lint:
    cargo fmt --check && cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt

# buf lint, buf breaking against proto/baseline.binpb, then a self-test that both checks fail
# on broken copies (installs buf from npm into target/buf). `just proto DIR` checks a copy of
# proto/ instead, without the self-test.
# Check the gRPC and event contracts in proto/ (docs/guides/adding-an-endpoint.md).
proto *DIR:
    bash .ci/proto.sh {{DIR}}

# Fuzz the public API of a running platform (start it with `just up`) from its own
# /openapi.json: schemathesis, every check, the stateful phase, EXAMPLES per operation (CI: 100).
# Fuzz the running gateway against its OpenAPI document.
contract EXAMPLES="1000":
    EXAMPLES={{EXAMPLES}} bash services/gateway/contract/run.sh

# Rewrite services/gateway/openapi.json, the committed public contract, from the code; review
# its diff (a test fails while the committed one differs).
# Regenerate the committed OpenAPI document.
openapi:
    UPDATE_OPENAPI=1 cargo test -q -p gateway-service --lib the_committed_document_is_the_codes

# Rebuild proto/baseline.binpb, the image of proto/ that `just proto` checks against. Only in
# the commit that makes an intended breaking change, saying why in its message.
# Accept the current contracts as the baseline for breaking-change checks.
proto-baseline:
    bash .ci/proto.sh --update-baseline

# The offline checks of the deployment files: compose, Dockerfile, Prometheus rules and
# dashboards, every Kubernetes overlay, and configuration parity (needs docker-compose,
# promtool, hadolint and kubernetes-validate: `.ci/run` installs them).
validate:
    bash deploy/validate.sh
    bash k8s/validate.sh
    mkdir -p target && cargo run -q -p platform-devstack --bin env-vars > target/env-vars.json
    python3 .ci/parity.py target/env-vars.json
    python3 .ci/config_reference.py target/env-vars.json --check

# Regenerate docs/configuration.md, the reference of every variable each service reads.
config-reference:
    mkdir -p target && cargo run -q -p platform-devstack --bin env-vars > target/env-vars.json
    python3 .ci/config_reference.py target/env-vars.json

# Regenerate docker-compose.yml and Prometheus' compose targets from deploy/compose.base.yml
# and every services/NAME/{compose.yml,service.toml}.
compose:
    python3 deploy/compose.py

# Regenerate the Kubernetes lists of services (k8s/base/services, the overlays' services
# Components, k8s/live/prod/secrets) from every services/NAME/service.toml.
k8s-services:
    python3 k8s/services.py

# What CI runs.
ci:
    bash .ci/run

# The benchmarks of every service with a benches/ folder (docs/benchmarks.md), one after another.
bench:
    for benches in services/*/benches; do cargo bench -p "$(just _crate "$(basename "$(dirname "$benches")")")"; done

# Load against a running platform, and checking its acknowledged writes (docs/loadgen.md).
# A flood from this one client meets the gateway's per-client rate limits: start the platform
# with GATEWAY_RATE_LIMIT_* raised for such a run (as memory-floods does).
# E.g. `just loadgen run --url http://127.0.0.1:8080 --users 4 --duration 20s --ledger
# ledger.json`, then `just loadgen verify --url http://127.0.0.1:8080 --ledger ledger.json`.
loadgen *ARGS:
    cargo run --release -p platform-loadgen -- {{ARGS}}

# Each service's resident memory through floods of logins, uploads, reads and a mix, every
# service a release process of its own (docs/benchmarks.md, "Memory under load"); output in
# target/memory/LABEL/. `ONE_PROCESS=1 just memory-floods LABEL` measures the one-process run.
memory-floods LABEL:
    cargo build --release --bins
    tools/loadgen/memory/floods.sh {{LABEL}}

# Generate a new gRPC service with its own database: services/NAME (its code, manifest,
# compose fragment and Kubernetes kustomization), proto/, migrations/, and its entries in
# devstack (see docs/guides/forking.md), then regenerates the files that list every service.
# Refuses a name that exists or is not a valid crate name.
new-service NAME:
    cargo run -q -p platform-scaffold -- new-service {{NAME}}
    just compose
    just k8s-services
    just config-reference

# Rename the platform for a fork: crate prefix, image names, Kubernetes labels and
# namespaces, database names (see docs/guides/forking.md). Needs a clean git working tree.
rename-platform NEW_NAME:
    cargo run -q -p platform-scaffold -- rename-platform {{NEW_NAME}}

# Apply SERVICE's migrations to its database (DATABASE_URL, or every shard in USER_SHARDS,
# required), e.g. `just migrate auth`. The package is the `crate` of its service.toml.
migrate SERVICE:
    cargo run -p "$(just _crate {{SERVICE}})" --bin {{SERVICE}} -- migrate

# E.g. `just dead-letters user list`, `just dead-letters user redrive --all`, `just
# dead-letters user redrive --id EVENT_ID`. Needs KAFKA_BROKERS (and KAFKA_CONSUMER_GROUP if
# the service sets it); see docs/events.md.
# List, re-drive or discard the dead letters of SERVICE, one that consumes events.
dead-letters SERVICE *ARGS:
    cargo run -q -p "$(just _crate {{SERVICE}})" --bin {{SERVICE}} -- dead-letters {{ARGS}}

# The package of SERVICE, from services/SERVICE/service.toml.
_crate SERVICE:
    @sed -n 's/^crate = "\(.*\)"$/\1/p' services/{{SERVICE}}/service.toml | grep . || \
        { echo "no service {{SERVICE}} (services/{{SERVICE}}/service.toml)" >&2; exit 2; }
