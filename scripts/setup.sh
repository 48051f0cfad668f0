#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh machine, idempotently:
#   - Debian packages: libclang (bindgen for MDBX), clang, pkg-config, Python venv support
#   - the JS client test packages (tests/js, exact versions from package-lock.json)
#   - the Python test packages (PyNaCl, schemathesis) into .venv-tests (pinned)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need_apt=()
# bindgen needs libclang itself (libclang.so / libclang-N.so), not just libclang-cpp
[ -n "$(ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/*/libclang-[0-9]*.so* /usr/lib/*/libclang.so* 2>/dev/null)" ] || need_apt+=(libclang-dev clang)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# qnet's docker-compose test runs `docker compose config` (or Compose v1) wherever docker is installed
if command -v docker >/dev/null && ! docker compose version >/dev/null 2>&1; then
  command -v docker-compose >/dev/null || need_apt+=(docker-compose)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

"$ROOT/scripts/setup-js.sh"
"$ROOT/scripts/setup-python.sh"
