#!/usr/bin/env python3
"""Checks that docker-compose.yml and the Kubernetes overlays agree with the code.

Usage (from anywhere in the repository):

    cargo run -q -p platform-devstack --bin env-vars > env-vars.json
    python3 .ci/parity.py env-vars.json

env-vars.json says, for each service, the environment variables its settings read and the
ones it requires (found by running the real settings code; see tools/devstack/src/bin/env-vars.rs).
This script then checks, and exits 1 on any drift:

1. The same services everywhere: those in env-vars.json, those with a manifest
   (services/NAME/service.toml), the application services of
   docker-compose.yml (those with `build:`; a one-shot `<service>-migrate` counts as
   `<service>`), and the Deployments of every overlay in k8s/overlays/ (rendered with
   `kubectl kustomize`; a Deployment is an application service when its container image is
   `platform/<service>`, possibly behind a registry as an overlay pins it: `platform/auth:dev`
   and `registry.example.com/platform/auth:0.1.0` are both `auth`).
2. For every compose service and every Kubernetes workload (Deployments, and Jobs such as the
   migrations) running a service's image: each variable it sets is one the service reads (no
   typo, nothing stale), and each variable the service requires is set and not empty. In
   Kubernetes a container's variables are its `env` and the keys of the ConfigMaps and Secrets
   it takes with `envFrom` (with their `prefix`).
3. The ports agree with the manifests: a workload that sets its own `GRPC_PORT`, `HTTP_PORT`
   or `OPS_PORT` sets the manifest's, and a `<SERVICE>_GRPC_URL` it sets ends in the called
   service's gRPC port (`MEDIA_GRPC_URL=http://media:50053` while services/media/service.toml
   says `grpc = 50053`).

Exit status: 0 when everything agrees, 1 on drift, 2 when the check itself cannot run.
Needs Python 3.11, PyYAML and kubectl.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Variables deliberately set for a program other than the service (a libc, a runtime), which
# the service therefore never reads. Each needs its reason. Empty today.
SET_FOR_OTHER_PROGRAMS: dict[str, str] = {
    # "TZ": "read by libc, for local times in crash output",
}

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
OVERLAYS_DIR = ROOT / "k8s" / "overlays"
MANIFESTS = "services/*/service.toml"
# The images built from this repository's Dockerfile are `platform/<service>`.
IMAGE_NAMESPACE = "platform"
MIGRATE_SUFFIX = "-migrate"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


@dataclass
class Workload:
    """One place that runs a service's binary, with the environment it gives it."""

    service: str
    where: str
    # Variable -> value; None when the value comes from elsewhere (a Secret, the host).
    env: dict[str, str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class CheckError(Exception):
    """The check cannot run (a missing file or tool), as opposed to drift."""


def load_env_vars(path: Path) -> dict[str, tuple[set[str], set[str]]]:
    """Service -> (variables read, variables required), from the env-vars JSON."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CheckError(f"cannot read {path}: {e}") from e
    return {name: (set(s["reads"]), set(s["required"])) for name, s in data.items()}


def load_manifests() -> dict[str, dict]:
    """Service -> its manifest (services/NAME/service.toml)."""
    manifests = {}
    for path in sorted(ROOT.glob(MANIFESTS)):
        try:
            manifest = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise CheckError(f"cannot read {path.relative_to(ROOT)}: {e}") from e
        manifests[manifest["name"]] = manifest
    return manifests


def check_ports(workload: Workload, manifests: dict[str, dict]) -> list[str]:
    """The ports `workload` sets, against the manifests (its own, and its callees')."""
    findings = []
    own = manifests.get(workload.service, {}).get("ports", {})
    for kind in ("grpc", "http", "ops"):
        value = workload.env.get(f"{kind.upper()}_PORT")
        if value is not None and kind in own and value != str(own[kind]):
            findings.append(f"sets {kind.upper()}_PORT={value}, its manifest says {own[kind]}")
    for name, manifest in manifests.items():
        variable = f"{name.upper().replace('-', '_')}_GRPC_URL"
        url, port = workload.env.get(variable), manifest.get("ports", {}).get("grpc")
        if url is not None and port is not None and not url.rstrip("/").endswith(f":{port}"):
            findings.append(f"sets {variable}={url}, but {name}'s manifest says grpc = {port}")
    return findings


def compose_workloads() -> list[Workload]:
    """The compose services built from this repository, with their environment."""
    try:
        compose = yaml.safe_load(COMPOSE_FILE.read_text())  # resolves anchors and `<<` merges
    except (OSError, yaml.YAMLError) as e:
        raise CheckError(f"cannot read {COMPOSE_FILE.name}: {e}") from e
    workloads = []
    for name, spec in (compose.get("services") or {}).items():
        if "build" not in spec:
            continue
        service = name.removesuffix(MIGRATE_SUFFIX)
        workload = Workload(service, f"{COMPOSE_FILE.name} services.{name}")
        environment = spec.get("environment") or {}
        if isinstance(environment, list):  # ["NAME=value", "NAME"] (the latter from the host)
            for item in environment:
                variable, equals, value = item.partition("=")
                workload.env[variable] = value if equals else None
        else:
            for variable, value in environment.items():
                workload.env[variable] = None if value is None else str(value)
        if "env_file" in spec:
            workload.problems.append("uses env_file, which this check cannot see into")
        workloads.append(workload)
    return workloads


def overlays() -> list[Path]:
    """Every directory of k8s/overlays/ that kustomize can build."""
    markers = ("kustomization.yaml", "kustomization.yml", "Kustomization")
    found = []
    if OVERLAYS_DIR.is_dir():
        found = sorted(
            d for d in OVERLAYS_DIR.iterdir() if any((d / m).is_file() for m in markers)
        )
    if not found:
        raise CheckError(f"no overlay in {OVERLAYS_DIR.relative_to(ROOT)}")
    return found


def render(overlay: Path) -> list[dict]:
    try:
        out = subprocess.run(
            ["kubectl", "kustomize", str(overlay)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except FileNotFoundError as e:
        raise CheckError("kubectl is not installed") from e
    except subprocess.CalledProcessError as e:
        where = overlay.relative_to(ROOT)
        raise CheckError(f"kubectl kustomize {where} failed:\n{e.stderr}") from e
    return [doc for doc in yaml.safe_load_all(out) if doc]


def service_of_image(image: str) -> str | None:
    """`[registry/]platform/<service>[:tag][@digest]` -> `<service>`; None for other images."""
    path = image.split("@")[0]
    name, colon, tag = path.rpartition(":")
    if colon and "/" not in tag:  # a tag, not a registry's port
        path = name
    segments = path.split("/")
    if len(segments) >= 2 and segments[-2] == IMAGE_NAMESPACE:
        return segments[-1]
    return None


def pod_spec(resource: dict) -> dict:
    spec = resource.get("spec") or {}
    if resource["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec", {})


def k8s_workloads(overlay: Path) -> tuple[list[Workload], set[str]]:
    """The containers running a `platform/` image in `overlay`, and the services that have a
    Deployment there."""
    resources = render(overlay)
    label = overlay.relative_to(ROOT)
    # (kind, namespace, name) -> keys of the ConfigMaps and Secrets, with their values.
    sources: dict[tuple[str, str | None, str], dict[str, str | None]] = {}
    for r in resources:
        if r.get("kind") in ("ConfigMap", "Secret"):
            meta = r["metadata"]
            keys: dict[str, str | None] = {}
            for section in ("data", "stringData", "binaryData"):
                for key, value in (r.get(section) or {}).items():
                    keys[key] = None if value is None else str(value)
            sources[(r["kind"], meta.get("namespace"), meta["name"])] = keys
    workloads, deployed = [], set()
    for r in resources:
        if r.get("kind") not in WORKLOAD_KINDS:
            continue
        meta, spec = r["metadata"], pod_spec(r)
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            service = service_of_image(container.get("image", ""))
            if service is None:
                continue
            if r["kind"] == "Deployment":
                deployed.add(service)
            where = f"{label} {r['kind']}/{meta['name']} container {container['name']}"
            workload = Workload(service, where)
            for source in container.get("envFrom", []):
                kind, ref = (
                    ("ConfigMap", source["configMapRef"])
                    if "configMapRef" in source
                    else ("Secret", source["secretRef"])
                )
                keys = sources.get((kind, meta.get("namespace"), ref["name"]))
                if keys is None:
                    if not ref.get("optional"):
                        workload.problems.append(
                            f"envFrom names {kind} {ref['name']}, which does not exist"
                        )
                    continue
                prefix = source.get("prefix", "")
                for key, value in keys.items():
                    workload.env[prefix + key] = value
            for var in container.get("env", []):  # `env` wins over `envFrom`
                value = None if "valueFrom" in var else str(var.get("value", ""))
                workload.env[var["name"]] = value
            workloads.append(workload)
    return workloads, deployed


def check_workload(workload: Workload, reads: set[str], required: set[str]) -> list[str]:
    findings = list(workload.problems)
    for variable in sorted(workload.env):
        if variable not in reads and variable not in SET_FOR_OTHER_PROGRAMS:
            findings.append(f"sets {variable}, which {workload.service} does not read")
    for variable in sorted(required):
        if variable not in workload.env:
            findings.append(f"does not set {variable}, which {workload.service} requires")
        elif workload.env[variable] == "":
            findings.append(
                f"sets {variable}, which {workload.service} requires, to an empty value"
                " (read as unset)"
            )
    return findings


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(
            "usage: python3 .ci/parity.py ENV_VARS.json\n"
            "  where ENV_VARS.json is the output of"
            " `cargo run -q -p platform-devstack --bin env-vars`",
            file=sys.stderr,
        )
        return 2
    try:
        services = load_env_vars(Path(argv[1]))
        manifests = load_manifests()
        workloads = compose_workloads()
        sets = {
            "env-vars": set(services),
            MANIFESTS: set(manifests),
            COMPOSE_FILE.name: {w.service for w in workloads},
        }
        for overlay in overlays():
            found, deployed = k8s_workloads(overlay)
            workloads += found
            sets[f"{overlay.relative_to(ROOT)} Deployments"] = deployed
    except CheckError as e:
        print(f"parity: cannot check: {e}", file=sys.stderr)
        return 2

    drift = 0
    print("Services")
    expected = sets["env-vars"]
    for where, names in sets.items():
        missing, extra = sorted(expected - names), sorted(names - expected)
        status = "ok" if not (missing or extra) else "DRIFT"
        detail = (f"; missing {', '.join(missing)}" if missing else "") + (
            f"; unknown {', '.join(extra)}" if extra else ""
        )
        print(f"  {status:5} {where}: {', '.join(sorted(names)) or '(none)'}{detail}")
        drift += status != "ok"

    print("\nVariables")
    for workload in sorted(workloads, key=lambda w: (w.service, w.where)):
        if workload.service not in services:
            continue  # already reported above as an unknown service
        reads, required = services[workload.service]
        findings = check_workload(workload, reads, required) + check_ports(workload, manifests)
        drift += len(findings)
        status = "ok" if not findings else "DRIFT"
        print(f"  {status:5} {workload.where} ({workload.service}, {len(workload.env)} set)")
        for finding in findings:
            print(f"          {finding}")

    if drift:
        print(f"\n{drift} finding(s): fix the deployment files or the code.")
    else:
        print("\nNo drift.")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
