#!/usr/bin/env bash
# Installs the JS client test dependencies (tests/js) exactly as locked: `npm ci`.
# Idempotent: skipped when tests/js/node_modules was installed from the same package-lock.json/.npmrc.
# Fails loudly when node or npm is missing.
set -euo pipefail

JS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/js" && pwd)"
STAMP="$JS_DIR/node_modules/.qrs-lock-hash"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup-js.sh: '$tool' is not installed; install Node.js >= 20 with npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
done

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "setup-js.sh: Node.js >= 20 is required (node --test), found $(node --version)" >&2
  exit 1
fi

want="$(cat "$JS_DIR/package.json" "$JS_DIR/package-lock.json" "$JS_DIR/.npmrc" | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "setup-js.sh: tests/js/node_modules is up to date with package-lock.json"
  exit 0
fi

echo "setup-js.sh: npm ci in $JS_DIR"
(cd "$JS_DIR" && npm ci --no-audit --no-fund)
echo "$want" >"$STAMP"
