#!/usr/bin/env bash
# Checks that the lists of services k8s/services.py generates are current, then renders every
# kustomization under k8s/overlays and k8s/live (with the services' own, services/*/k8s, and
# their per-environment Components) and validates the result, offline:
#   1. `kubectl kustomize` (or `kustomize build`) renders it;
#   2. `kubernetes-validate --strict` checks every built-in object against the Kubernetes
#      OpenAPI schema it ships (unknown fields are errors; so is a kind it has no schema for),
#      and operator-kinds.mjs the Prometheus Operator's (the PodMonitor of components/
#      monitoring) against its CRDs' schemas (@kubernetes-models/prometheus-operator, npm);
#   3. a few platform rules: every pod runs non-root with RuntimeDefault seccomp, no
#      privilege escalation, all capabilities dropped and memory requests and limits; every
#      Deployment has readiness and liveness probes; every platform Deployment has an HPA
#      and a PodDisruptionBudget; a default-deny NetworkPolicy exists; a PodMonitor selects
#      every platform Deployment's pods on a port they name; no REPLACE_ME is left in the dev
#      overlay.
# k8s/live/* read secret files kept out of git; they are rendered from a scratch copy
# where the committed *.example templates stand in for them. Exits non-zero on any failure.
#
# Needs: kubectl (or kustomize), python3, kubernetes-validate (pip install kubernetes-validate),
# node and npm.
# KUBERNETES_VERSION picks the schema (default: the newest the installed validator ships).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
command -v kubernetes-validate >/dev/null || {
  echo "kubernetes-validate not found: pip install kubernetes-validate" >&2
  exit 2
}
if command -v kubectl >/dev/null; then
  render() { kubectl kustomize "$1"; }
elif command -v kustomize >/dev/null; then
  render() { kustomize build "$1"; }
else
  echo "neither kubectl nor kustomize found" >&2
  exit 2
fi
version_args=()
if [[ -n "${KUBERNETES_VERSION:-}" ]]; then version_args=(-k "$KUBERNETES_VERSION"); fi
# The Prometheus Operator's kinds (components/monitoring) are checked against its CRDs'
# schemas from the npm registry, installed once into target/ (gitignored).
OPERATOR_MODELS_VERSION=6.0.0
operator_models="$here/../target/k8s-operator-models"
if [[ "$(cat "$operator_models/version" 2>/dev/null)" != "$OPERATOR_MODELS_VERSION" ]]; then
  command -v npm >/dev/null || { echo "npm (Node.js) is needed for the operator's schemas" >&2; exit 2; }
  npm install --prefix "$operator_models" --save-exact --no-audit --no-fund --loglevel=error \
    "@kubernetes-models/prometheus-operator@$OPERATOR_MODELS_VERSION" >&2
  echo "$OPERATOR_MODELS_VERSION" >"$operator_models/version"
fi

# The generated lists of services (base/services, overlays/*/services, live/prod/secrets)
# must match the manifests.
python3 "$here/services.py" --check

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -R "$here" "$scratch/k8s"
# The base lists each service's own kustomization, services/NAME/k8s: copied to the same
# place relative to k8s/.
for service_k8s in "$here"/../services/*/k8s; do
  service="$(basename "$(dirname "$service_k8s")")"
  mkdir -p "$scratch/services/$service"
  cp -R "$service_k8s" "$scratch/services/$service/k8s"
done
# Stand-ins for the secret files that git ignores, only in the scratch copy: the templates
# beside them, and each service's production Secret's, services/NAME/k8s/prod/secrets.env.example.
while IFS= read -r example; do
  target="${example%.example}"
  [[ -e "$target" ]] || cp "$example" "$target"
done < <(find "$scratch/k8s/overlays" "$scratch/k8s/live" -path '*/secrets/*.example')
for example in "$scratch"/services/*/k8s/prod/secrets.env.example; do
  [[ -e "$example" ]] || continue
  service="${example#"$scratch/services/"}"
  target="$scratch/k8s/live/prod/secrets/${service%%/*}.env"
  [[ -e "$target" ]] || cp "$example" "$target"
done

failed=0
while IFS= read -r kustomization; do
  dir="$(dirname "$kustomization")"
  name="${dir#"$scratch/k8s/"}"
  out="$scratch/$(echo "$name" | tr / _).yaml"
  echo "== $name"
  if ! render "$dir" >"$out"; then
    echo "FAIL $name: does not render" >&2
    failed=1
    continue
  fi
  # The operator's objects go to their own schemas; kubernetes-validate gets the rest.
  python3 - "$out" "$out.operator.json" <<'PY'
import json, sys, yaml
path, operator = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
ours = [d for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")]
json.dump(ours, open(operator, "w"))
yaml.safe_dump_all([d for d in docs if d not in ours], open(path + ".builtin", "w"))
PY
  if ! node "$here/operator-kinds.mjs" "$operator_models" "$out.operator.json"; then
    echo "FAIL $name: Prometheus Operator schema validation" >&2
    failed=1
    continue
  fi
  report="$(kubernetes-validate --strict "${version_args[@]}" "$out.builtin" 2>&1)" || {
    echo "$report" | grep -v '^INFO' >&2
    echo "FAIL $name: schema validation" >&2
    failed=1
    continue
  }
  if echo "$report" | grep -q '^WARN'; then
    echo "$report" | grep '^WARN' >&2
    echo "FAIL $name: objects the validator has no schema for" >&2
    failed=1
    continue
  fi
  echo "   schema: $(echo "$report" | grep -c '^INFO.*passed') objects pass --strict ($(echo "$report" | grep -o 'against version [0-9.]*' | sort -u | head -1))"
  if ! python3 - "$name" "$out" <<'PY'
import sys, yaml

name, path = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
errors = []
# The platform's own workloads: the Deployments running an image built from this repository
# (`platform/<service>`, behind any registry), so a service added with `just new-service` is
# held to the same rules without editing this list.
platform = {
    d["metadata"]["name"]
    for d in docs
    if d["kind"] == "Deployment"
    and any("platform/" in c.get("image", "") for c in d["spec"]["template"]["spec"]["containers"])
}
if not platform:
    errors.append("no Deployment runs a platform/ image")

def pod_of(obj):
    kind = obj["kind"]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj["spec"]["template"]["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None

for obj in docs:
    pod = pod_of(obj)
    if pod is None:
        continue
    where = f'{obj["kind"]}/{obj["metadata"]["name"]}'
    psc = pod.get("securityContext", {})
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        errors.append(f"{where}: pod seccompProfile is not RuntimeDefault")
    for c in pod.get("initContainers", []) + pod["containers"]:
        at = f'{where} container {c["name"]}'
        sc = c.get("securityContext", {})
        if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
            errors.append(f"{at}: runAsNonRoot not set")
        if sc.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{at}: allowPrivilegeEscalation is not false")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            errors.append(f"{at}: capabilities do not drop ALL")
        if "readOnlyRootFilesystem" not in sc:
            errors.append(f"{at}: readOnlyRootFilesystem not stated")
        res = c.get("resources", {})
        if "memory" not in res.get("requests", {}) or "cpu" not in res.get("requests", {}):
            errors.append(f"{at}: no cpu and memory requests")
        if "memory" not in res.get("limits", {}):
            errors.append(f"{at}: no memory limit")
        if obj["kind"] == "Deployment":
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in c:
                    errors.append(f"{at}: no {probe}")
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] in platform:
            if sc.get("readOnlyRootFilesystem") is not True:
                errors.append(f"{at}: root filesystem is not read-only")

def names(kind):
    return {d["metadata"]["name"] for d in docs if d["kind"] == kind}

deployments = names("Deployment")
for svc in sorted(platform):
    if svc not in deployments:
        errors.append(f"Deployment/{svc} missing")
    if svc not in {d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}:
        errors.append(f"no HorizontalPodAutoscaler for {svc}")
    if svc not in names("PodDisruptionBudget"):
        errors.append(f"no PodDisruptionBudget for {svc}")
    dep = next((d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == svc), None)
    if dep is not None and "replicas" in dep["spec"]:
        errors.append(f"Deployment/{svc} sets replicas, which fights its HPA")
if not any(d["kind"] == "NetworkPolicy" and d["spec"].get("podSelector") == {}
           and set(d["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
           and not d["spec"].get("ingress") and not d["spec"].get("egress") for d in docs):
    errors.append("no default-deny NetworkPolicy")
# A PodMonitor must find every platform pod, on a port the pod names.
for monitor in (d for d in docs if d["kind"] == "PodMonitor"):
    wanted = monitor["spec"]["selector"].get("matchLabels", {})
    ports = {e.get("port") for e in monitor["spec"]["podMetricsEndpoints"]}
    for dep in (d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] in platform):
        pod = dep["spec"]["template"]
        at = f'PodMonitor/{monitor["metadata"]["name"]}: Deployment/{dep["metadata"]["name"]}'
        if any(pod["metadata"].get("labels", {}).get(k) != v for k, v in wanted.items()):
            errors.append(f"{at}: its pods lack the selector's labels {wanted}")
        named = {p.get("name") for c in pod["spec"]["containers"] for p in c.get("ports", [])}
        if not ports & named:
            errors.append(f"{at}: no container port named {sorted(ports)}")
if name == "overlays/dev" and "REPLACE_ME" in open(path).read():
    errors.append("a REPLACE_ME placeholder is left")

for e in errors:
    print(f"   rule: {e}", file=sys.stderr)
kinds = {}
for d in docs:
    kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
print("   rules: ok (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")")
sys.exit(1 if errors else 0)
PY
  then
    echo "FAIL $name: platform rules" >&2
    failed=1
  fi
# Components (the generated services/ lists, live/prod/secrets) are parts of an overlay, not
# buildable on their own.
done < <(find "$scratch/k8s/overlays" "$scratch/k8s/live" -name kustomization.yaml \
  -exec grep -L '^kind: Component$' {} + | sort)

if [[ "$failed" -ne 0 ]]; then
  echo "k8s/validate.sh: FAILED" >&2
  exit 1
fi
echo "k8s/validate.sh: every overlay renders and validates"
