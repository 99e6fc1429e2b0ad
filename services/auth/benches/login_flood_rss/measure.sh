#!/usr/bin/env bash
# Auth's resident memory under a login flood, auth running as a process of its own
# (docs/benchmarks.md, "Memory under load: auth's login flood").
#
# usage: measure.sh AUTH_BINARY GATEWAY_BINARY LABEL
#
# Starts auth (gRPC 15051, ops 19111) and the gateway (HTTP 18080, ops 19110), ports apart from
# the native run's. Records auth's RSS (ps, KiB) idle, after registering 4 users, every 5 s of a
# 60 s flood of POST /v1/auth/login from 4 wrk connections (one user each), and 5, 10 and 15 s
# after; wrk's report gives logins/s. Output in ./runs/LABEL/. Needs wrk, Redis on 127.0.0.1,
# and DATABASE_URL (auth's migrations applied) and KAFKA_BROKERS exported.
set -euo pipefail
AUTH_BIN=$1; GATEWAY_BIN=$2; LABEL=$3
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=runs/$LABEL; mkdir -p "$OUT"
export REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX="rss-bench:$LABEL:" RUST_LOG=warn
GRPC_PORT=15051 OPS_PORT=19111 "$AUTH_BIN" >"$OUT/auth.log" 2>&1 & AUTH=$!
# The flood logs in from one address at about 100/s, far past the gateway's per-address quota
# (GATEWAY_RATE_LIMIT_AUTH, 600/1m): raised, not turned off, so auth sees the whole flood.
HTTP_PORT=18080 OPS_PORT=19110 AUTH_GRPC_URL=http://127.0.0.1:15051 \
  USER_GRPC_URL=http://127.0.0.1:1 MEDIA_GRPC_URL=http://127.0.0.1:1 \
  GATEWAY_RATE_LIMIT_AUTH=1000000/1s \
  "$GATEWAY_BIN" >"$OUT/gateway.log" 2>&1 & GATEWAY=$!
trap 'kill $AUTH $GATEWAY 2>/dev/null; wait $AUTH $GATEWAY 2>/dev/null' EXIT
until curl -sf -o /dev/null localhost:19111/readyz; do sleep 0.2; done
until curl -sf -o /dev/null localhost:18080/.well-known/jwks.json; do sleep 0.2; done
sleep 5
rss() { echo "$1 $(ps -o rss= -p $AUTH)" | tee -a "$OUT/rss.txt"; }
echo "load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/rss.txt"
rss idle
for i in 1 2 3 4; do
  curl -sf -o /dev/null -H 'content-type: application/json' localhost:18080/v1/auth/register -d \
    "{\"email\":\"flood-$LABEL-$i@example.com\",\"password\":\"correct horse battery\",\"display_name\":\"Flood $i\",\"region\":\"eu\"}"
done
rss registered
wrk -t4 -c4 -d60s --timeout 10s -s "$HERE/login.lua" http://127.0.0.1:18080 -- "$LABEL" >"$OUT/wrk.txt" &
WRK=$!
for t in 5 10 15 20 25 30 35 40 45 50 55; do sleep 5; rss "during+${t}s"; done
wait $WRK
rss end
for t in 5 10 15; do sleep 5; rss "after+${t}s"; done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/rss.txt"
cat "$OUT/wrk.txt"
