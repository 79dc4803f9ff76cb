#!/usr/bin/env bash
# Installs everything the project needs, once, and again only when its inputs change:
# a Python 3.11 virtualenv with the package (editable) and its dev tools, the npm toolchain
# (soljson, anvil, OpenZeppelin), the `solc` launcher, and Brownie's network entries.
# Also Debian packages: Chromaprint's fpcalc (acoustic fingerprints at registration) and, with
# --bench, the audio the fingerprint benchmark measures on (speech synthesis, real music).
# Idempotent: a second run with nothing changed takes well under a second.
set -euo pipefail
with_bench=false
[ "${1:-}" = --bench ] && with_bench=true
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

# debian_install CHECK PACKAGE...: apt-get install the packages unless CHECK (a command on PATH,
# or an absolute path) is already there. One `apt-get update` first: a fresh machine has no lists.
debian_install() {
  local check=$1; shift
  if [[ $check == /* ]]; then [ -e "$check" ] && return 0; else command -v "$check" >/dev/null && return 0; fi
  echo "== installing $* (apt-get, for $check)"
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  if ! command -v apt-get >/dev/null; then
    echo "error: $check is missing and this machine has no apt-get: install $* (Debian names) by hand" >&2
    exit 1
  fi
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
           --no-install-recommends "$@"; } > "$stamps/apt.log" 2>&1; then
    cat "$stamps/apt.log" >&2
    echo "error: apt-get could not install $* (needed for $check); the log is above and in $stamps/apt.log" >&2
    exit 1
  fi
}
debian_install fpcalc libchromaprint-tools
if $with_bench; then
  debian_install espeak-ng espeak-ng
  debian_install /usr/share/scummvm/drascula/audio drascula-music  # 31 real soundtrack pieces (Debian main)
  debian_install /usr/share/games/asc/music asc-music  # 3 more, by another composer
fi

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
