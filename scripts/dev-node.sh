#!/usr/bin/env bash
# Builds and starts a local single-node dev chain with embedded storage (MDBX):
# JSON-RPC on http://127.0.0.1:8545 and ws://127.0.0.1:8546, chain id 1337, the dev account
# 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 funded and unlocked. Extra flags are passed on.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qrs-target}"
scripts/setup.sh >/dev/null
cargo build --release -p qrs-node --bin qnode
DATADIR="${QNODE_DATADIR:-$ROOT/.qnode-dev}"
exec "$CARGO_TARGET_DIR/release/qnode" --dev --datadir "$DATADIR" \
  --http --http.port 8545 --http.api eth,net,web3,txpool,debug,personal,admin --http.corsdomain '*' \
  --ws --ws.port 8546 --ws.api eth,net,web3,txpool,debug,personal,admin "$@"
