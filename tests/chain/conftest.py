"""The chain edge in-process: a real anvil of these tests' own, the registry deployed from
Brownie's build artifacts, each test from a snapshot of the same chain.

In-process on purpose: `make mutation` runs these under mutmut, whose mutants live in the
test process (the CLI tests run `qfzz` in a subprocess, which mutmut cannot attribute), and
without Brownie's plugin, so anvil is started here, not by Brownie.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from qfzz_chain.chain.deployment import ContractDeployment, DeploymentRecord, block_hash, code_hash, now_iso
from qfzz_chain.chain.local_node import anvil_executable
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.track_registry import TrackRegistry
from qfzz_chain.config import PROJECT_ROOT
from qfzz_chain.ipfs.embedded import EmbeddedStore

BUILD = PROJECT_ROOT / "build" / "contracts"


def artifact(name: str) -> dict:
    """Brownie's artifact of ``name``, compiled from the source as it is now (compiled if not)."""
    path = BUILD / f"{name}.json"

    def fresh() -> dict | None:
        if not path.exists():
            return None
        built = json.loads(path.read_text())
        source = PROJECT_ROOT / built["sourcePath"]
        return built if source.exists() and source.read_text() == built["source"] else None

    built = fresh()
    if built is None:
        subprocess.run(["brownie", "compile"], cwd=PROJECT_ROOT, check=True, capture_output=True)
        built = fresh()
    if built is None:
        pytest.fail(f"{path} does not match {name}'s source: run `make compile`")
    return built


@pytest.fixture(scope="session")
def anvil_url():
    """A real anvil on a loopback port it picks itself (`--port 0`, read back from its banner: two
    sessions at once never meet on one port), with its default 1 gwei base fee, so gas costs ether."""
    process = subprocess.Popen([anvil_executable(), "--host", "127.0.0.1", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        url = None
        for line in process.stdout:  # the banner ends with "Listening on 127.0.0.1:PORT"
            if line.startswith("Listening on "):
                url = "http://" + line.split()[-1]
                break
        if url is None:
            pytest.fail(f"anvil did not start (exit status {process.wait(timeout=30)})")
        threading.Thread(target=process.stdout.read, daemon=True).start()  # drain its request log
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def deploy(w3: Web3, name: str, *args) -> ContractDeployment:
    built = artifact(name)
    factory = w3.eth.contract(abi=built["abi"], bytecode=built["bytecode"])
    tx_hash = factory.constructor(*args).transact({"from": w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    address = receipt["contractAddress"]
    return ContractDeployment(name, address, tx_hash.to_0x_hex(), receipt["blockNumber"], code_hash(w3, address),
                              built["abi"])  # fmt: skip


@pytest.fixture(scope="session")
def _suite(anvil_url):
    """The registry, deployed once; each test reverts to the snapshot taken right after."""
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    deployment = deploy(w3, "TrackRegistry")
    anchor = deployment.block
    record = DeploymentRecord(w3.eth.chain_id, anchor, block_hash(w3, anchor), "test", w3.eth.accounts[0],
                              now_iso(), {"TrackRegistry": deployment})  # fmt: skip
    return record


@pytest.fixture
def w3(anvil_url, _suite):
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield w3
    w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture
def record(_suite) -> DeploymentRecord:
    return _suite


@pytest.fixture
def registry(w3, record) -> TrackRegistry:
    return TrackRegistry.from_record(w3, record)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """A QFZZ_HOME of the test's own: journal, deployment records and IPFS repo in a temp dir."""
    home = tmp_path / "qfzz-home"
    monkeypatch.setenv("QFZZ_HOME", str(home))
    for variable in ("QFZZ_DEPLOYMENTS", "QFZZ_CRASH_AT", "QFZZ_IPFS_API", "QFZZ_RPC_URL"):
        monkeypatch.delenv(variable, raising=False)
    return home


@pytest.fixture
def store(tmp_path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "ipfs")


@pytest.fixture
def node_senders(w3) -> list[Sender]:
    """anvil's unlocked accounts: the node signs for them."""
    return [Sender(address) for address in w3.eth.accounts]


def funded_key_sender(w3: Web3, ether: int = 1) -> Sender:
    """A fresh key, signing here, funded from anvil's first account (0 ether: a gasless artist)."""
    account = Account.create()
    if ether:
        tx = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": account.address, "value": w3.to_wei(ether, "ether")})
        w3.eth.wait_for_transaction_receipt(tx)
    return Sender(account.address, bytes(account.key))
