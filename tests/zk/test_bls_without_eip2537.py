"""On a chain without EIP-2537 (anvil --hardfork cancun) a call to 0x0b-0x11 is a call to an
empty account: it succeeds and returns nothing. The library must refuse that, naming the
precompile and the 0 bytes it got, and never read the untouched output as a point."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import requests
from eth_abi import decode
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError

from qfzz_chain.chain.local_node import anvil_executable
from qfzz_chain.config import PROJECT_ROOT
from qfzz_chain.zk import bls
from tests.zk.points import G1_INFINITY, G2_INFINITY, fp

ARTIFACT = PROJECT_ROOT / "build" / "contracts" / "BLS12381Harness.json"
OUTPUT_LENGTH = keccak(text="PrecompileOutputLength(address,uint256)")[:4]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cancun_harness(BLS12381Harness) -> Iterator:
    """The harness (Brownie's compiled artifact) on a throwaway anvil at the cancun hard fork."""
    port = _free_port()
    node = subprocess.Popen([anvil_executable(), "--hardfork", "cancun", "--port", str(port), "--host", "127.0.0.1",
                             "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        w3 = Web3(Web3.HTTPProvider(url))
        artifact = json.loads(ARTIFACT.read_text())
        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        receipt = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": w3.eth.accounts[0]}))
        yield w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])
    finally:
        node.terminate()
        node.wait(timeout=10)


def output_length_error(call) -> tuple[str, int]:
    with pytest.raises(ContractCustomError) as caught:
        call.call()
    data = bytes.fromhex(str(caught.value.data)[2:])
    assert data[:4] == OUTPUT_LENGTH, f"expected PrecompileOutputLength, got {data[:4].hex()}"
    precompile, length = decode(["address", "uint256"], data[4:])
    return precompile.lower(), length


def test_each_bls_precompile_reports_its_empty_answer(cancun_harness):
    h = cancun_harness.functions
    public = bls.to_eip2537(bls.public_key(bls.keygen(bytes(32))))
    assert output_length_error(h.g1Add(G1_INFINITY, G1_INFINITY)) == ("0x" + "0b".rjust(40, "0"), 0)
    assert output_length_error(h.g2Add(G2_INFINITY, G2_INFINITY)) == ("0x" + "0d".rjust(40, "0"), 0)
    assert output_length_error(h.pairingCheck2(G1_INFINITY, G2_INFINITY, G1_INFINITY, G2_INFINITY)) == (
        "0x" + "0f".rjust(40, "0"), 0)  # fmt: skip
    assert output_length_error(h.mapFpToG1(fp(1))) == ("0x" + "10".rjust(40, "0"), 0)
    # hash-to-curve gets through SHA-256 and MODEXP (present since Byzantium) and stops at the map
    assert output_length_error(h.hashToG1(b"abc", bls.SIGNATURE_DST)) == ("0x" + "10".rjust(40, "0"), 0)
    assert output_length_error(h.verifySignature(G1_INFINITY, public, b"abc")) == ("0x" + "10".rjust(40, "0"), 0)


def test_what_still_works_without_eip2537(cancun_harness):
    h = cancun_harness.functions
    assert bytes(h.expandMessageXmd(b"abc", b"QUUX-V01-CS02-with-expander-SHA256-128", 32).call()).hex() == (
        "d8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615")  # fmt: skip
    public = bls.to_eip2537(bls.public_key(bls.keygen(bytes(32))))
    assert bytes(h.g2Compress(public).call()) == bls.public_key(bls.keygen(bytes(32)))
