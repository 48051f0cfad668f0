#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a freshly started qtm: the Q2T, ThirdParty and P2P OpenAPI
# documents served at /api. Fails if any request gets a 5xx (check `not_a_server_error`).
#
#   tx-manager/qtm/tests/schemathesis.sh            # builds qtm (debug) if QTM_BIN is unset
#   QTM_BIN=/path/to/qtm MAX_EXAMPLES=100 tx-manager/qtm/tests/schemathesis.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
crate=$(cd "$here/.." && pwd)
max_examples=${MAX_EXAMPLES:-30}

if [ -z "${QTM_BIN:-}" ]; then
    (cd "$crate" && cargo build -q -p qrs-qtm --bin qtm)
    QTM_BIN=${CARGO_TARGET_DIR:-$crate/../../target}/debug/qtm
fi
if ! command -v schemathesis >/dev/null 2>&1; then
    python3 -m pip install --quiet schemathesis
fi

work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && "$QTM_BIN" keygen --filename tm >/dev/null)
key=$(cat "$work/tm.pub")
cat >"$work/config.json" <<JSON
{
  "jdbc": {"url": "jdbc:sqlite:$work/db.sqlite"},
  "serverConfigs": [
    {"app": "Q2T", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"},
    {"app": "ThirdParty", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"},
    {"app": "P2P", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST",
     "properties": {"partyInfoInterval": "1000"}}
  ],
  "peer": [],
  "keys": {"keyData": [{"privateKeyPath": "$work/tm.key", "publicKeyPath": "$work/tm.pub"}]},
  "features": {"enablePrivacyEnhancements": true, "enableMultiplePrivateStates": true},
  "residentGroups": [{"name": "private", "members": ["$key"], "description": "the local key"}]
}
JSON

"$QTM_BIN" --configfile "$work/config.json" >"$work/stdout.log" 2>"$work/qtm.log" &
pid=$!
for _ in $(seq 1 300); do
    [ "$(grep -c '^qtm listening' "$work/stdout.log" || true)" -ge 3 ] && break
    sleep 0.1
done
url() { sed -n "s/^qtm listening app=$1 url=//p" "$work/stdout.log"; }

status=0
for app in Q2T ThirdParty P2P; do
    base=$(url "$app")
    [ -n "$base" ] || { echo "qtm did not start:"; cat "$work/qtm.log"; exit 1; }
    echo "== schemathesis $app $base/api"
    schemathesis run "$base/api" --url "$base" \
        --checks not_a_server_error \
        --max-examples "$max_examples" \
        --workers 1 \
        --seed 42 \
        --request-timeout 20 \
        --no-color || status=1
done
if [ "$status" -ne 0 ]; then
    echo "--- qtm log (tail)"; tail -50 "$work/qtm.log"
fi
exit "$status"
