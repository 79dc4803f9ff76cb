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

# Brownie keeps networks in ~/.brownie/network-config.yaml (only HOME moves it), shared by every
# checkout: the documented `qfzz-local` entry is written once, under a lock, only when missing or
# different. Tests and `qfzz chain deploy` give Brownie their node's entry in memory instead.
if newer "$stamps/brownie-networks" tools/bootstrap.sh qfzz_chain/chain/brownie_networks.py \
   || ! grep -q "id: qfzz-local" "$HOME/.brownie/network-config.yaml" 2>/dev/null; then
  .venv/bin/python -m qfzz_chain.chain.brownie_networks install >/dev/null
  touch "$stamps/brownie-networks"
fi
