#!/usr/bin/env bash
# Installs tools/solc.js as the `solc` that py-solc-x, Brownie and slither find, inside this
# checkout's .venv so that two checkouts never overwrite each other's compiler:
#  - py-solc-x/Brownie: $SOLCX_BINARY_PATH/solc-v$VERSION, SOLCX_BINARY_PATH=.venv/solcx
#    (the Makefile exports it; bootstrap adds it to .venv/bin/activate)
#  - slither/crytic-compile: .venv/qfzz-bin/solc, put first on PATH the same way
# Each is a two-line launcher calling this checkout's tools/solc.js by absolute path, because
# py-solc-x copies the file it is given and the copy must not depend on its own location.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p 'require(process.argv[1] + "/node_modules/solc/package.json").version' "$root")
launcher=$(mktemp)
printf '#!/bin/sh\nexec node "%s/tools/solc.js" "$@"\n' "$root" > "$launcher"
chmod +x "$launcher"

install_to() {  # install_to FILE: copy the launcher there unless it is already identical
  mkdir -p "$(dirname "$1")"
  cmp -s "$launcher" "$1" 2>/dev/null || cp "$launcher" "$1"
}

install_to "${SOLCX_BINARY_PATH:-$root/.venv/solcx}/solc-v$version"
install_to "$root/.venv/qfzz-bin/solc"
rm -f "$launcher"

activate="$root/.venv/bin/activate"
if ! grep -q 'qfzz-bin' "$activate"; then
  cat >> "$activate" <<ACTIVATE

# QFZZ chain: the soljson-backed solc for Brownie (py-solc-x) and slither, and npm's anvil
export SOLCX_BINARY_PATH="$root/.venv/solcx"
export PATH="$root/.venv/qfzz-bin:$root/node_modules/.bin:\$PATH"
ACTIVATE
fi
echo "solc $version (soljson) installed for py-solc-x and slither in .venv"
