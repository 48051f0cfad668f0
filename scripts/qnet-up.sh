#!/usr/bin/env bash
# Builds qnode, qtm and qnet (release) and starts a whole local network with `qnet up`:
# the quickstart's default topology (4 QBFT validators, an RPC node on :8545/:8546, 3 members
# with their own transaction managers on 20000-20005 / 9081-9083), generated into ./network on
# the first run and restarted from it afterwards. Stays in the foreground; Ctrl-C stops it.
#
#   scripts/qnet-up.sh                 # foreground
#   scripts/qnet-up.sh --detach        # return once healthy; then `qnet status|down --dir network`
#   QNET_DIR=/tmp/net scripts/qnet-up.sh --consensus raft   # any `qnet up` option is passed on
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qrs-target}"
scripts/setup.sh >/dev/null
cargo build --release -p qrs-node -p qrs-qtm -p qrs-qnet --bin qnode --bin qtm --bin qnet
exec "$CARGO_TARGET_DIR/release/qnet" up --dir "${QNET_DIR:-$ROOT/network}" "$@"
