#!/usr/bin/env bash
# Starts a dev qnode (chain id 1337, dev key funded and unlocked), waits for its HTTP and WS endpoints, runs the
# JS client test files against it with `node --test`, and stops the node on exit.
#
#   QNODE_BIN=path/to/qnode tests/js/run-against-dev-node.sh [test files...]
#
# QNODE_BIN defaults to $CARGO_TARGET_DIR/debug/qnode (CARGO_TARGET_DIR defaults to <repo>/target).
# Without arguments every test file runs. Exit status is node --test's. Node output: $QNODE_LOG or a temp file.
set -euo pipefail

JS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$JS_DIR/../.." && pwd)"
QNODE_BIN="${QNODE_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/qnode}"
STARTUP_TIMEOUT_S="${QNODE_STARTUP_TIMEOUT_S:-30}"
DEV_KEY="0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

if [ ! -x "$QNODE_BIN" ]; then
  echo "run-against-dev-node.sh: qnode binary not found or not executable at $QNODE_BIN (build it, or set QNODE_BIN)" >&2
  exit 1
fi

"$REPO_ROOT/scripts/setup-js.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/qrs-js-XXXXXX")"
OUT="$WORK/qnode.stdout"
LOG="${QNODE_LOG:-$WORK/qnode.stderr}"
QNODE_PID=""

cleanup() {
  local status=$?
  if [ -n "$QNODE_PID" ] && kill -0 "$QNODE_PID" 2>/dev/null; then
    kill "$QNODE_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$QNODE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$QNODE_PID" 2>/dev/null || true
    wait "$QNODE_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ]; then
    echo "run-against-dev-node.sh: failed (exit $status); qnode stdout/stderr tails follow" >&2
    tail -n 20 "$OUT" >&2 2>/dev/null || true
    tail -n 60 "$LOG" >&2 2>/dev/null || true
  fi
  if [ "$status" -eq 0 ]; then
    rm -rf "$WORK"
  else
    echo "run-against-dev-node.sh: node files kept in $WORK" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$QNODE_BIN" --dev --datadir "$WORK/datadir" \
  --http --http.addr 127.0.0.1 --http.port 0 \
  --ws --ws.addr 127.0.0.1 --ws.port 0 >"$OUT" 2>"$LOG" &
QNODE_PID=$!

HTTP_URL=""
WS_URL=""
deadline=$((SECONDS + STARTUP_TIMEOUT_S))
while [ -z "$HTTP_URL" ] || [ -z "$WS_URL" ]; do
  if ! kill -0 "$QNODE_PID" 2>/dev/null; then
    echo "run-against-dev-node.sh: qnode exited before announcing its endpoints" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run-against-dev-node.sh: qnode did not print both 'qnode listening http=' and 'qnode listening ws=' within ${STARTUP_TIMEOUT_S}s" >&2
    exit 1
  fi
  HTTP_URL="$(sed -n 's/^qnode listening http=\(http:\/\/[^[:space:]]*\).*/\1/p' "$OUT" | head -n 1)"
  WS_URL="$(sed -n 's/^qnode listening ws=\(ws:\/\/[^[:space:]]*\).*/\1/p' "$OUT" | head -n 1)"
  sleep 0.1
done
echo "run-against-dev-node.sh: qnode pid $QNODE_PID http=$HTTP_URL ws=$WS_URL (log: $LOG)"

export QRS_HTTP_URL="$HTTP_URL" QRS_WS_URL="$WS_URL" QRS_DEV_KEY="$DEV_KEY"

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  files=(artifacts.test.mjs ethers.test.mjs web3v4.test.mjs web3v1.test.cjs)
fi
# One file at a time: every file sends from the same dev account, and some tests assert exact balances.
# --test-force-exit: a client that leaks a socket or timer must not hang the run after the tests are done.
cd "$JS_DIR"
node --test --test-concurrency=1 --test-force-exit "${files[@]}"
