#!/usr/bin/env bash
# Installs everything the project needs, once, and again only when its inputs change:
# a Python 3.11 virtualenv with the package (editable) and its dev tools, the npm toolchain
# (soljson, anvil, OpenZeppelin), the `solc` launcher, and Brownie's network entries.
# Idempotent: a second run with nothing changed takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stamps=.make
mkdir -p "$stamps"

newer() {  # newer STAMP INPUT...: true when STAMP is missing or older than an input
  local stamp=$1; shift
  [ ! -f "$stamp" ] && return 0
  for input in "$@"; do [ "$input" -nt "$stamp" ] && return 0; done
  return 1
}

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
  rm -f "$stamps"/*  # everything installed into the old .venv is gone with it
  .venv/bin/pip install -q --upgrade pip
fi
if newer "$stamps/python" pyproject.toml; then
  echo "== installing Python packages (pip install -e .[dev])"
  .venv/bin/pip install -q -e '.[dev]' > .make/pip.log 2>&1 || { cat .make/pip.log; exit 1; }
  .venv/bin/pip check
  touch "$stamps/python"
fi

if newer "$stamps/npm" package.json package-lock.json || [ ! -d node_modules ]; then
  echo "== installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamps/npm"
fi

if newer "$stamps/solc" tools/install-solc.sh package-lock.json \
   || [ ! -f "${SOLCX_BINARY_PATH:-$root/.venv/solcx}/solc-v$(node -p 'require("solc/package.json").version')" ]; then
  tools/install-solc.sh
  touch "$stamps/solc"
fi

# Brownie keeps networks in ~/.brownie/network-config.yaml (only HOME moves it).
if newer "$stamps/brownie-networks" tools/bootstrap.sh || [ ! -f "$HOME/.brownie/network-config.yaml" ]; then
  export PATH="$root/.venv/bin:$root/node_modules/.bin:$PATH" SOLCX_BINARY_PATH="$root/.venv/solcx"
  # Brownie's own throwaway anvil, on a port of its own so it never attaches to a stale node.
  brownie networks modify development port=8555 >/dev/null
  # The persistent local chain that `qfzz chain up` runs: a development network that Brownie
  # attaches to (and leaves running); `qfzz chain deploy` re-points it at the node's port.
  brownie networks delete qfzz-local >/dev/null 2>&1 || true
  brownie networks add Development qfzz-local host=http://127.0.0.1 cmd=anvil port=8645 \
    chain_id=31337 accounts=10 >/dev/null
  touch "$stamps/brownie-networks"
fi
