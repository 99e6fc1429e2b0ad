#!/usr/bin/env bash
# The protobuf contracts' checks (docs/guides/adding-an-endpoint.md, "Contract checks"):
#   - `buf lint`: the STANDARD rules less the exceptions proto/buf.yaml gives with reasons;
#   - `buf breaking` against proto/baseline.binpb, the committed image of the contracts
#     (WIRE_JSON + RPC/service deletions): what running clients and queued events rely on.
# Then a self-test proves both checks bite: a copy of proto/ with a field renumbered must fail
# `buf breaking`, a copy with an RPC renamed lower-case must fail `buf lint`.
#
# Usage:
#   .ci/proto.sh                    checks proto/, then the self-test
#   .ci/proto.sh DIR                checks DIR (a copy of proto/, its buf.yaml included) only
#   .ci/proto.sh --update-baseline  rewrites proto/baseline.binpb (`just proto-baseline`):
#                                   only in the commit that makes an intended breaking change
# PROTO_DIR stands for DIR; PROTO_BASELINE for another baseline image; PROTO_SELF_TEST=0
# skips the self-test. Installs buf from the npm registry into target/buf when it is missing
# or another version. Exits non-zero, after buf's own message, when a check fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

BUF_VERSION=1.75.0
buf_prefix="$root/target/buf"
buf="$buf_prefix/node_modules/.bin/buf"
export BUF_CACHE_DIR="$buf_prefix/cache"
baseline=${PROTO_BASELINE:-$root/proto/baseline.binpb}

say() { printf '%s\n' "$*"; }
fail() { printf 'proto.sh: %s\n' "$*" >&2; exit 1; }

install_buf() {
  if [ -x "$buf" ] && [ "$("$buf" --version 2>/dev/null)" = "$BUF_VERSION" ]; then
    return
  fi
  command -v npm >/dev/null || fail "npm (Node.js) is needed to install buf"
  say "installing buf $BUF_VERSION from the npm registry into target/buf"
  # --prefix: a package.json of its own under target/ (gitignored), none in the source tree.
  npm install --prefix "$buf_prefix" --save-exact --no-audit --no-fund --loglevel=error \
    "@bufbuild/buf@$BUF_VERSION" >&2
  [ "$("$buf" --version)" = "$BUF_VERSION" ] || fail "target/buf has buf $("$buf" --version), not $BUF_VERSION"
}

# check DIR: lint, then breaking against the baseline (both run, so one CI run shows every
# finding); buf prints each problem it finds.
check() {
  local dir=$1 failed=0
  [ -f "$dir/buf.yaml" ] || fail "$dir has no buf.yaml: give a copy of proto/ (buf.yaml included)"
  say "buf lint $dir"
  if ! "$buf" lint "$dir"; then
    failed=1
    say "proto.sh: buf lint failed on $dir (its findings above). Fix the .proto; proto/buf.yaml says which rules are off and why." >&2
  fi
  say "buf breaking $dir --against ${baseline#"$root/"}"
  if ! "$buf" breaking "$dir" --against "$baseline"; then
    failed=1
    say "proto.sh: buf breaking failed on $dir (above): running clients or queued events would not understand the change. Add fields with new numbers and reserve removed ones; if the break is intended, run 'just proto-baseline' in the same commit and say why in its message." >&2
  fi
  [ "$failed" = 0 ] || exit 1
}

update_baseline() {
  "$buf" lint "$root/proto" || fail "buf lint failed on proto/: fix it before recording a baseline"
  say "breaking changes this new baseline accepts (none listed: nothing breaking):"
  "$buf" breaking "$root/proto" --against "$baseline" || true
  # No source info (comments, positions): the baseline changes only when a contract does.
  "$buf" build "$root/proto" --exclude-source-info -o "$root/proto/baseline.binpb"
  say "wrote proto/baseline.binpb; commit it with the .proto change that needs it"
}

# mutate FILE FROM TO: replaces the one line containing FROM; fails if it is not there
# exactly once, so a self-test whose target moved says so instead of passing vacuously.
mutate() {
  local file=$1 from=$2 to=$3 count
  count=$(grep -cF -- "$from" "$file" || true)
  [ "$count" = 1 ] || fail "self-test: expected one '$from' in $file, found $count; update .ci/proto.sh"
  FROM=$from TO=$to perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$file"
}

# expect_failure WHAT PATTERN COMMAND...: the command must fail with buf's exit code for
# findings (100, not a usage or build error) and print PATTERN.
expect_failure() {
  local what=$1 pattern=$2 out rc=0
  shift 2
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" -ne 100 ] || ! grep -qF -- "$pattern" <<<"$out"; then
    printf '%s\n' "$out" >&2
    fail "self-test: $what should fail (exit 100) saying '$pattern'; it exited $rc"
  fi
  say "ok: $what fails, as it must:"
  sed 's/^/    /' <<<"$out"
}

self_test() {
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT

  say "self-test: the checks fail on broken copies of proto/"
  cp -R "$root/proto" "$tmp/renumbered"
  mutate "$tmp/renumbered/events/v1/user.proto" \
    "google.protobuf.Timestamp registered_at = 5;" "google.protobuf.Timestamp registered_at = 6;"
  "$buf" lint "$tmp/renumbered" || fail "self-test: the renumbered copy should still lint"
  expect_failure "buf breaking on a field renumbered 5 -> 6" \
    'Previously present field "5" with name "registered_at" on message "UserRegistered" was deleted' \
    "$buf" breaking "$tmp/renumbered" --against "$baseline"

  cp -R "$root/proto" "$tmp/lowercase"
  mutate "$tmp/lowercase/auth/v1/auth.proto" "rpc Login(" "rpc login("
  expect_failure "buf lint on an RPC renamed Login -> login" \
    'RPC name "login" should be PascalCase' \
    "$buf" lint "$tmp/lowercase"
  expect_failure "buf breaking on an RPC renamed Login -> login" \
    'Previously present RPC "Login" on service "AuthService" was deleted' \
    "$buf" breaking "$tmp/lowercase" --against "$baseline"
}

install_buf
case "${1:-}" in
  --update-baseline)
    update_baseline
    ;;
  -*)
    fail "unknown option $1 (usage: .ci/proto.sh [DIR | --update-baseline])"
    ;;
  *)
    dir=${1:-${PROTO_DIR:-}}
    if [ -n "$dir" ]; then
      check "$dir"
    else
      check "$root/proto"
      [ "${PROTO_SELF_TEST:-1}" = 0 ] || self_test
    fi
    say "proto contracts: lint and breaking checks passed${dir:+ on $dir}"
    ;;
esac
