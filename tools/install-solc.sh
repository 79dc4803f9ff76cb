#!/usr/bin/env bash
# Installs tools/solc.js as the `solc` that py-solc-x, Brownie and slither find:
#  - py-solc-x/Brownie: ${SOLCX_BINARY_PATH:-~/.solcx}/solc-v$VERSION
#  - solc-select (crytic-compile, slither): its artifact folder and global version
# Each is a two-line launcher that calls this checkout's tools/solc.js by absolute path, because
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

install_to "${SOLCX_BINARY_PATH:-$HOME/.solcx}/solc-v$version"
for select_home in "$HOME/.solc-select" "$root/.venv/.solc-select"; do
  install_to "$select_home/artifacts/solc-$version/solc-$version"
  echo "$version" > "$select_home/global-version"
done
rm -f "$launcher"
echo "solc $version (soljson) installed for py-solc-x and solc-select"
