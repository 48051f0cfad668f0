#!/usr/bin/env bash
# Creates .venv-tests with the pinned Python packages the tests use (PyNaCl cross-checks,
# schemathesis). Idempotent: skipped when the requirements did not change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${QRS_PY_VENV:-$ROOT/.venv-tests}"
REQ="$ROOT/scripts/requirements-tests.txt"
STAMP="$VENV/.qrs-req-hash"
want="$(cat "$REQ" "$ROOT/enclave/tests/py/requirements.txt" | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "setup-python.sh: $VENV is up to date"
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet -r "$REQ"
echo "$want" > "$STAMP"
echo "setup-python.sh: installed $(wc -l < "$REQ") packages into $VENV"
