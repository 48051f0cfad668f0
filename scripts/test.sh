#!/usr/bin/env bash
# The whole test suite: setup, build every binary, then every Rust test (which also drives the
# JS client suites and the Python cross-checks against real processes).
#
#   scripts/test.sh            # what CI runs (.ci/run)
#
# The cargo target directory lives outside the clone so CI reuses it between runs:
# $CARGO_TARGET_DIR, default ~/.cache/qrs-target.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qrs-target}"
export QRS_PY_VENV="${QRS_PY_VENV:-$ROOT/.venv-tests}"
export PATH="$QRS_PY_VENV/bin:$PATH"

scripts/setup.sh

echo "== build (all binaries, so process tests find them)"
cargo build --workspace --all-targets

echo "== tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
