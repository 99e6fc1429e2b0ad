#!/usr/bin/env bash
# Each service's resident memory through floods of logins, uploads, profile reads and a mix,
# every service a release process of its own (docs/benchmarks.md, "Memory under load: every
# service"). `just memory-floods LABEL` builds and runs it.
#
# usage: tools/loadgen/memory/floods.sh LABEL
#
# Runs `target/release/devstack processes` in target/memory/LABEL (its data/ and pid files are
# there; databases `mem_LABEL_*`, dropped first) and samples every process's VmRSS each second
# into rss.csv (seconds, phase, process, KiB) while loadgen runs, in order:
#   idle 10 s · login flood · rest 15 s · upload flood · drain · read flood · rest 15 s ·
#   3 × (mixed flood · drain · rest 15 s)
# A flood is FLOOD (30s) of loadgen with USERS (6) closed-loop users; "drain" waits until the
# media service has no pending upload (the worker caught up), at most 10 minutes.
# summary.py prints idle, the peak of each flood and the value at the end of each phase.
# ONE_PROCESS=1 measures the one-process native run (`devstack`, one row) instead.
# BIN (default target/release) is where devstack and the services are, so an older build can
# be measured with today's loadgen; anything else exported reaches every service.
set -euo pipefail
LABEL=$1
FLOOD=${FLOOD:-30s}
USERS=${USERS:-6}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${BIN:-$ROOT/target/release}
LOADGEN=$ROOT/target/release/loadgen
OUT=$ROOT/target/memory/$LABEL
PREFIX=mem_${LABEL//[^a-zA-Z0-9]/_}
PSQL=(psql -h 127.0.0.1 -U postgres -Atq)
rm -rf "$OUT" && mkdir -p "$OUT" && cd "$OUT"

for db in $("${PSQL[@]}" -c "select datname from pg_database where datname like '${PREFIX}\_%'"); do
  "${PSQL[@]}" -c "drop database \"$db\" with (force)"
done
echo idle >phase
export DEVSTACK_DATABASE_PREFIX=$PREFIX
# Every flood comes from one address (logins, registrations) and a few users, far past the
# gateway's per-client rate limits (600/1m logins per address, 100 reads/s per user, ...):
# raised, not turned off, so the floods measure the services' memory under load rather than
# a stream of 429s, while the limiter still counts every request in Redis as in production.
export GATEWAY_RATE_LIMIT_AUTH=1000000/1s GATEWAY_RATE_LIMIT_READS=1000000/1s \
  GATEWAY_RATE_LIMIT_WRITES=1000000/1s GATEWAY_RATE_LIMIT_UPLOADS=1000000/1s
if [[ -n "${ONE_PROCESS:-}" ]]; then
  "$BIN/devstack" >devstack.log 2>&1 &
  RUN=$!
  mkdir -p data/run && echo $RUN >data/run/platform.pid
else
  "$BIN/devstack" processes >devstack.log 2>&1 &
  RUN=$!
fi
sampler() {
  local start=$SECONDS
  while :; do
    local phase; phase=$(<phase)
    for pid_file in data/run/*.pid; do
      local name pid rss
      name=$(basename "$pid_file" .pid); pid=$(<"$pid_file")
      rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
      echo "$((SECONDS - start)),$phase,$name,$rss"
    done
    sleep 1
  done
}
SAMPLER=
trap 'kill $SAMPLER $RUN 2>/dev/null; wait $RUN 2>/dev/null' EXIT
until [[ "$(curl -sf http://127.0.0.1:9100/readyz)" == *'"degraded":false'* ]]; do
  kill -0 $RUN || { cat devstack.log; exit 1; }
  sleep 0.5
done
sampler >rss.csv & SAMPLER=$!

phase() { echo "$1" >phase; echo "$(date +%T) $1" | tee -a phases.txt; }
flood() { # name mix
  phase "$1"
  "$LOADGEN" run --url http://127.0.0.1:8080 --users "$USERS" --duration "$FLOOD" \
    --mix "$2" --seed "$RANDOM" --quiet --report "$1.json" >"$1.txt" 2>&1
}
pending() {
  "${PSQL[@]}" -d "${PREFIX}_media" -c "select count(*) from media where status in ('pending','processing')"
}
drain() {
  phase "$1"
  local until=$((SECONDS + 600))
  while (($(pending) > 0 && SECONDS < until)); do sleep 1; done
  echo "pending at end of $1: $(pending)" | tee -a phases.txt
}
rest() { phase "$1"; sleep "$2"; }

sleep 10
flood login login=1
rest after-login 15
flood upload upload=1
drain upload-drain
flood read read_me=1,read_other=1
rest after-read 15
for i in 1 2 3; do
  flood "mixed-$i" login=1,read_me=2,read_other=2,update_bio=1,upload=1
  drain "mixed-$i-drain"
  rest "after-mixed-$i" 15
done
phase end
sleep 1
python3 "$ROOT/tools/loadgen/memory/summary.py" rss.csv | tee summary.txt
