#!/usr/bin/env bash
# The public contract against the running gateway: schemathesis (all checks, the stateful
# phase, EXAMPLES generated examples per operation, at least 100 in CI) from the document the
# gateway serves. The platform must be running (`cargo run -p platform-devstack`); the run
# registers its own user and sends that user's token. Exits non-zero on any failure.
#
#   services/gateway/contract/run.sh                 # against http://127.0.0.1:8080
#   BASE=http://127.0.0.1:8080 EXAMPLES=500 services/gateway/contract/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
base=${BASE:-http://127.0.0.1:8080}
examples=${EXAMPLES:-100}
reports="$root/target/contract"
mkdir -p "$reports"

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  schemathesis==4.32.5 pillow==13.0.0
command -v pyenv >/dev/null && pyenv rehash

# A user of its own, so the protected routes are reached with a valid token.
email="contract-$(date +%s%N)@example.com"
token=$(curl -sf -X POST "$base/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"contract run password\",\"display_name\":\"Contract\",\"region\":\"eu\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

started=$(date +%s)
status=0
SCHEMATHESIS_HOOKS="$here/hooks.py" schemathesis run "$base/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$examples" \
  --report junit,ndjson --report-dir "$reports" \
  --no-color || status=$?
# The newest report is this run's (the directory keeps earlier ones).
report=$(find "$reports" -name 'ndjson-*.ndjson' -newermt "@$started" | sort | tail -n 1)
[ -n "$report" ] && python3 "$here/summary.py" "$report"
exit "$status"
