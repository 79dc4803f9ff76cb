"""A throwaway local chain with the suite deployed, for benchmarks that measure gas.

Starts anvil through ``qfzz_chain.chain.local_node`` in a temporary ``QFZZ_HOME``, deploys the
contracts from Brownie's build artifacts (run ``brownie compile`` first; ``make bench`` does)
and writes a deployment record there, so the benchmark drives the same client code as the CLI.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path

from web3 import Web3

from qfzz_chain.chain import local_node
from qfzz_chain.chain.connection import connect
from qfzz_chain.chain.deployment import ContractDeployment, DeploymentRecord, block_hash, code_hash, now_iso, save_record
from qfzz_chain.config import PROJECT_ROOT

BUILD = PROJECT_ROOT / "build" / "contracts"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def deploy_artifact(w3: Web3, name: str, *args) -> ContractDeployment:
    artifact = json.loads((BUILD / f"{name}.json").read_text())
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx_hash = factory.constructor(*args).transact({"from": w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    address = receipt["contractAddress"]
    return ContractDeployment(name, address, tx_hash.to_0x_hex(), receipt["blockNumber"], code_hash(w3, address),
                              artifact["abi"])  # fmt: skip


@contextmanager
def deployed_suite(*contracts):
    """Yield (w3, record) for a fresh anvil with ``contracts`` deployed (names, or (name, arguments)
    pairs where an argument may be a function of the node's first account); stops anvil afterwards."""
    entries = [(c, ()) if isinstance(c, str) else c for c in contracts]
    names = [name for name, _ in entries]
    missing = [n for n in names if not (BUILD / f"{n}.json").exists()]
    if missing:
        raise SystemExit(f"no build artifacts for {', '.join(missing)}: run `brownie compile` first")
    previous_home = os.environ.get("QFZZ_HOME")
    with tempfile.TemporaryDirectory(prefix="qfzz-bench-") as home:
        os.environ["QFZZ_HOME"] = home
        try:
            node, _ = local_node.up(_free_port())
            try:
                w3 = connect(node.rpc_url)
                deployer = w3.eth.accounts[0]
                contracts = {name: deploy_artifact(w3, name, *(a(deployer) if callable(a) else a for a in arguments))
                             for name, arguments in entries}  # fmt: skip
                anchor = min(c.block for c in contracts.values())
                record = DeploymentRecord(w3.eth.chain_id, anchor, block_hash(w3, anchor), "benchmark",
                                          w3.eth.accounts[0], now_iso(), contracts)  # fmt: skip
                save_record(record)
                yield w3, record
            finally:
                local_node.down()
        finally:
            if previous_home is None:
                os.environ.pop("QFZZ_HOME", None)
            else:
                os.environ["QFZZ_HOME"] = previous_home


def results_path(name: str) -> Path:
    return Path(__file__).resolve().parent / "results" / f"{name}.json"
