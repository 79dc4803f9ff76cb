"""Sending transactions and calls: custom errors decoded by name, one clear error per failure."""

from __future__ import annotations

import os

import pytest
from eth_abi import encode
from eth_utils import function_abi_to_4byte_selector
from web3 import Web3

from qfzz_chain.chain.errors import ChainError, NoFundsError, TransactionReverted
from qfzz_chain.chain.track_registry import make_commitment
from qfzz_chain.chain.transactions import NO_FUNDS_HINT, Receipt, _abi_type, call, decode_custom_error, transact
from qfzz_chain.chain.types import CidParts
from tests.chain.conftest import funded_key_sender

INVALID_CID = {"type": "error", "name": "InvalidCid", "inputs": [
    {"name": "version", "type": "uint8"}, {"name": "codec", "type": "uint16"},
    {"name": "hashFunction", "type": "uint16"}, {"name": "digest", "type": "bytes32"},
]}  # fmt: skip
NOT_ARTIST = {"type": "error", "name": "NotArtist", "inputs": [
    {"name": "trackId", "type": "bytes32"}, {"name": "caller", "type": "address"}]}  # fmt: skip


def _revert_data(entry: dict, types: list[str], values: list) -> bytes:
    return function_abi_to_4byte_selector(entry) + encode(types, values)


def test_custom_errors_decode_by_name_with_their_arguments():
    digest = os.urandom(32)
    data = _revert_data(INVALID_CID, ["uint8", "uint16", "uint16", "bytes32"], [1, 0x78, 0x12, digest])
    abi = [{"type": "function", "name": "x", "inputs": [], "outputs": []}, NOT_ARTIST, INVALID_CID]
    for raw in (data, "0x" + data.hex()):
        reverted = decode_custom_error(abi, raw)
        assert reverted.error == "InvalidCid"
        assert reverted.arguments == {"version": 1, "codec": 0x78, "hashFunction": 0x12, "digest": digest}
        assert str(reverted) == f"InvalidCid(version=1, codec=120, hashFunction=18, digest=0x{digest.hex()})"


def test_address_arguments_come_back_checksummed():
    caller = "0x" + "ab" * 20
    data = _revert_data(NOT_ARTIST, ["bytes32", "address"], [b"\x01" * 32, caller])
    reverted = decode_custom_error([NOT_ARTIST], data)
    assert reverted.arguments["caller"] == Web3.to_checksum_address(caller) != caller
    assert reverted.arguments["trackId"] == b"\x01" * 32


def test_unknown_revert_data_is_shown_not_guessed():
    reverted = decode_custom_error([NOT_ARTIST], bytes.fromhex("deadbeef00"))
    assert reverted.error == "" and str(reverted) == "reverted with unknown error data 0xdeadbeef00"


def test_tuple_types_are_spelled_as_solidity_abi_types():
    entry = {"type": "tuple[]", "components": [{"type": "bytes32"}, {"type": "tuple", "components": [
        {"type": "uint8"}, {"type": "address[2]"}]}]}  # fmt: skip
    assert _abi_type(entry) == "(bytes32,(uint8,address[2]))[]"
    assert _abi_type({"type": "tuple", "components": [{"type": "uint16"}]}) == "(uint16)"
    assert _abi_type({"type": "uint256"}) == "uint256"


def test_errors_with_tuple_arguments_decode():
    entry = {"type": "error", "name": "Bad", "inputs": [{"name": "cid", "type": "tuple", "components": [
        {"name": "version", "type": "uint8"}, {"name": "digest", "type": "bytes32"}]}]}  # fmt: skip
    data = function_abi_to_4byte_selector(entry) + encode(["(uint8,bytes32)"], [(1, b"\x02" * 32)])
    reverted = decode_custom_error([entry], data)
    assert reverted.arguments == {"cid": (1, b"\x02" * 32)}
    assert str(reverted) == f"Bad(cid=(1, 0x{'02' * 32}))"


def test_a_reverting_call_names_the_error(registry):
    unknown = os.urandom(32)
    with pytest.raises(TransactionReverted) as raised:
        call(registry.abi, registry.contract.functions.getTrack(unknown))
    assert raised.value.error == "TrackNotRegistered" and raised.value.arguments == {"trackId": unknown}
    assert call(registry.abi, registry.contract.functions.isRegistered(unknown)) is False


def test_a_transaction_returns_its_receipt(w3, registry, node_senders):
    commitment = os.urandom(32)
    receipt = transact(w3, node_senders[1], registry.abi, registry.contract.functions.commitRegistration(commitment))
    assert isinstance(receipt, Receipt)
    mined = w3.eth.get_transaction_receipt(receipt.transaction)
    assert (receipt.block, receipt.gas_used) == (mined["blockNumber"], mined["gasUsed"]) and receipt.block > 0
    assert receipt.transaction.startswith("0x") and len(receipt.transaction) == 66
    assert len(receipt.logs) == 1 and bytes(receipt.logs[0]["topics"][1]) == commitment
    assert registry.commitment_of(commitment)[0] == receipt.block


def test_a_local_key_signs_the_transaction_itself(w3, registry):
    sender = funded_key_sender(w3)
    receipt = transact(w3, sender, registry.abi, registry.contract.functions.invalidateNonce())
    assert w3.eth.get_transaction(receipt.transaction)["from"] == sender.address
    assert registry.nonce(sender.address) == 1
    second = transact(w3, sender, registry.abi, registry.contract.functions.invalidateNonce())
    assert second.block > receipt.block and registry.nonce(sender.address) == 2


def test_a_revert_is_found_before_any_gas_is_spent(w3, registry, node_senders):
    sender = node_senders[2]
    balance = w3.eth.get_balance(sender.address)
    unknown = os.urandom(32)
    function = registry.contract.functions.updateMetadata(unknown, CidParts(0, 0x70, 0x12, os.urandom(32)).as_tuple())
    with pytest.raises(TransactionReverted) as raised:
        transact(w3, sender, registry.abi, function)
    assert raised.value.error == "TrackNotRegistered"
    assert w3.eth.get_balance(sender.address) == balance and w3.eth.get_transaction_count(sender.address) == 0


def test_an_account_without_ether_is_told_how_to_go_gasless(w3, registry):
    broke = funded_key_sender(w3, 0)
    with pytest.raises(NoFundsError) as raised:
        transact(w3, broke, registry.abi, registry.contract.functions.invalidateNonce())
    assert str(raised.value) == NO_FUNDS_HINT.format(address=broke.address)
    assert "qfzz track sign" in str(raised.value) and broke.address in str(raised.value)


def test_a_node_account_without_ether_gets_the_same_hint(w3, registry):
    """The node refuses an unlocked account that cannot pay: its RPC error becomes the hint."""
    empty = w3.eth.accounts[8]
    w3.provider.make_request("anvil_setBalance", [empty, "0x0"])
    from qfzz_chain.chain.signer import Sender

    with pytest.raises(NoFundsError, match="no ether to pay gas"):
        transact(w3, Sender(empty), registry.abi, registry.contract.functions.invalidateNonce())


def test_a_refusal_other_than_funds_is_named_as_the_nodes(w3, registry):
    from qfzz_chain.chain.signer import Sender

    stranger = Sender(Web3.to_checksum_address("0x" + "12" * 20))  # not unlocked on the node
    w3.provider.make_request("anvil_setBalance", [stranger.address, hex(10**18)])
    with pytest.raises(ChainError, match="^the node refused the transaction: ") as raised:
        transact(w3, stranger, registry.abi, registry.contract.functions.invalidateNonce())
    assert not isinstance(raised.value, NoFundsError)


def test_a_silent_node_is_a_chain_error(registry):
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2}))
    silent = type(registry)(w3, registry.address, registry.abi)
    with pytest.raises(ChainError, match=r"the chain stopped answering \(ConnectionError\)"):
        call(silent.abi, silent.contract.functions.isRegistered(os.urandom(32)))
    from qfzz_chain.chain.signer import Sender

    with pytest.raises(ChainError, match=r"the chain stopped answering \(ConnectionError\)"):
        transact(w3, Sender(registry.address), silent.abi, silent.contract.functions.invalidateNonce())


def test_a_reveal_is_estimated_in_the_next_block(w3, registry, node_senders):
    """Right after its commitment's block a reveal is valid only in the next block: estimating it
    in the latest block would refuse it as CommitmentTooNew."""
    sender = node_senders[3]
    audio_hash, salt = os.urandom(32), os.urandom(32)
    registry.commit(sender, make_commitment(audio_hash, sender.address, salt))
    cid = CidParts(0, 0x70, 0x12, os.urandom(32)).as_tuple()
    function = registry.contract.functions.registerTrack(audio_hash, salt, cid, cid, [])
    with pytest.raises(TransactionReverted) as raised:
        transact(w3, sender, registry.abi, function)
    assert raised.value.error == "CommitmentTooNew"
    transact(w3, sender, registry.abi, function, estimate_block="pending")
    assert registry.get(audio_hash).artist == sender.address


def test_connect_asks_the_chain_id_once_and_reaches_a_loopback_node_past_a_proxy(anvil_url, registry, monkeypatch):
    """web3 validates every call against the chain id: asked once per connection, not per call.
    A proxy in the environment (unreachable here) is not used for a node on the loopback."""
    import json

    import requests

    from qfzz_chain.chain import connection

    methods = []

    class CountingSession(requests.Session):
        def request(self, method, url, *args, **kwargs):
            methods.append(json.loads(kwargs["data"])["method"])
            return super().request(method, url, *args, **kwargs)

    with monkeypatch.context() as patched:  # undone before the fixtures' own teardown requests
        patched.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        patched.delenv("NO_PROXY", raising=False)
        patched.delenv("no_proxy", raising=False)
        patched.setattr(connection.requests, "Session", CountingSession)
        w3 = connection.connect(anvil_url)
        client = type(registry)(w3, registry.address, registry.abi)
        for _ in range(3):
            assert call(client.abi, client.contract.functions.isRegistered(bytes(32))) is False
    assert methods.count("eth_chainId") == 1 and methods.count("eth_call") == 3
