# The project's entry point. `make demo` runs the main job, `make test` the whole suite,
# `make bench` the benchmarks. Each installs what is missing first (tools/bootstrap.sh).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/.venv/qfzz-bin:$(CURDIR)/.venv/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.venv/solcx

.PHONY: install demo test forge-test analyze bench compile chain-up chain-down deploy abi clean

install:
	@tools/bootstrap.sh

compile: install
	@brownie compile | tail -n 1

## The ABIs the package ships (qfzz_chain/chain/abi), from a fresh compile.
abi: compile
	@python tools/export_abi.py

demo: install
	@tools/demo.sh

## The whole suite in one pytest session (Brownie launches its own anvil), the Solidity fuzz and
## invariant tests (forge, the same compiler), then static analysis.
test: install
	pytest -q -W ignore::FutureWarning
	forge test 2>&1 | grep -E "^(\[FAIL|Suite result|Ran )"
	@$(MAKE) --no-print-directory analyze

## Solidity fuzz and invariant tests alone.
forge-test: install
	forge test

## slither on every contract; fails on a medium or high finding (triage: docs/security.md).
analyze: install
	@for contract in contracts/*.sol; do slither "$$contract" --fail-medium 2>&1 | grep -v "running$$"; done

## Every benchmark, each writing benchmarks/results/NAME.json; `make bench QUICK=1` runs each in its
## quick mode (for iterating: smaller inputs, the same keys), `make bench ONLY=oracle` just one.
BENCH_FLAGS := $(if $(QUICK),--quick,)
bench: compile
	@tools/bootstrap.sh --bench  # the fingerprint benchmark's audio: espeak-ng, Debian's game music
	@for bench in benchmarks/bench_$(or $(ONLY),*).py; do echo "== $$bench $(BENCH_FLAGS)"; python "$$bench" $(BENCH_FLAGS); done

chain-up: install
	@qfzz chain up

chain-down:
	@qfzz chain down

deploy: compile
	@qfzz chain deploy

clean:
	rm -rf build reports .make benchmarks/results .demo
