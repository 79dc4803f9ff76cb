"""Front-running every step of a registration, on anvil with automine off, as a mempool watcher
would: the attacker reads the artist's pending transactions from the node's pool, copies what
they reveal, pays a higher tip to be mined first — and never ends up as the track's artist."""

import os

import brownie
import pytest
from eth_account import Account
from web3 import Web3

from qfzz_chain.chain.track_registry import make_commitment
from tests.contracts.helpers import cid_v0, relayed_args

LOW_TIP, HIGH_TIP = 1 * 10**9, 50 * 10**9


@pytest.fixture
def w3():
    """A plain web3 on Brownie's anvil (Brownie's own raises reverts as bare ValueErrors)."""
    return Web3(Web3.HTTPProvider(brownie.web3.provider.endpoint_uri))


@pytest.fixture
def chain_under_attack(w3, registry):
    """The registry as a plain web3 contract, automine off; restores automine afterwards."""
    contract = w3.eth.contract(address=registry.address, abi=registry.abi)
    w3.provider.make_request("evm_setAutomine", [False])
    yield contract
    w3.provider.make_request("evm_setAutomine", [True])


def send(w3, contract, sender: str, function: str, args: list, tip: int) -> bytes:
    """Queue a transaction in the node's pool (not mined until `mine`)."""
    return w3.eth.send_transaction({
        "from": sender, "to": contract.address, "data": contract.encode_abi(function, args=args), "gas": 500_000,
        "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": tip,
    })  # fmt: skip


def mine(w3) -> None:
    """Mine the pool as a block builder does: highest tip first (anvil itself takes arrival order).

    Every queued transaction is dropped and sent again in tip order; the same fields signed by the
    same unlocked account give the same transaction, so hashes stay valid.
    """
    pool = w3.provider.make_request("txpool_content", [])["result"]["pending"]
    queued = [tx for by_nonce in pool.values() for tx in by_nonce.values()]
    for tx in queued:
        w3.provider.make_request("anvil_dropTransaction", [tx["hash"]])
    for tx in sorted(queued, key=lambda t: -int(t["maxPriorityFeePerGas"], 16)):
        fields = {k: tx[k] for k in ("from", "to", "input", "gas", "maxFeePerGas", "maxPriorityFeePerGas", "nonce")}
        resent = w3.provider.make_request("eth_sendTransaction", [fields])["result"]
        assert resent == tx["hash"], "a re-sent transaction must be the one the test holds"
    w3.provider.make_request("evm_mine", [])
    order = [t["hash"].to_0x_hex() for t in w3.eth.get_block("latest", full_transactions=True).transactions]
    assert order == [t["hash"] for t in sorted(queued, key=lambda t: -int(t["maxPriorityFeePerGas"], 16))]


def succeeded(w3, tx_hash: bytes) -> bool:
    return w3.eth.get_transaction_receipt(tx_hash)["status"] == 1


def pending_calls(w3, contract, sender: str) -> list:
    """What a mempool watcher sees: the decoded calls ``sender`` has queued."""
    pool = w3.provider.make_request("txpool_content", [])["result"]["pending"]
    queued = next((txs for address, txs in pool.items() if address.lower() == sender.lower()), {})
    return [contract.decode_function_input(tx["input"]) for tx in queued.values()]


def test_copying_the_commitment_gains_nothing(w3, chain_under_attack, accounts):
    contract, artist, attacker = chain_under_attack, accounts[1].address, accounts[7].address
    audio_hash, salt = os.urandom(32), os.urandom(32)
    commitment = make_commitment(audio_hash, artist, salt)
    mine(w3)
    artist_commit = send(w3, contract, artist, "commitRegistration", [commitment], LOW_TIP)
    (_, args), = pending_calls(w3, contract, artist)
    copied = send(w3, contract, attacker, "commitRegistration", [args["commitment"]], HIGH_TIP)
    mine(w3)
    assert succeeded(w3, copied) and not succeeded(w3, artist_commit)  # the copy was mined first
    # ... but the commitment binds the artist: it reveals nothing and serves only the artist
    reveal = send(w3, contract, artist, "registerTrack", [audio_hash, salt, cid_v0(), cid_v0(), []], LOW_TIP)
    mine(w3)
    assert succeeded(w3, reveal)
    assert contract.functions.getTrack(audio_hash).call()[0] == artist


def test_copying_the_reveal_loses(w3, chain_under_attack, accounts):
    """The attacker learns the audio and salt from the pending reveal: a copy of it from the
    attacker's address has no commitment, and a commitment of its own is a block too young."""
    contract, artist, attacker = chain_under_attack, accounts[1].address, accounts[7].address
    audio_hash, salt = os.urandom(32), os.urandom(32)
    send(w3, contract, artist, "commitRegistration", [make_commitment(audio_hash, artist, salt)], LOW_TIP)
    mine(w3)
    artist_reveal = send(w3, contract, artist, "registerTrack", [audio_hash, salt, cid_v0(), cid_v0(), []], LOW_TIP)
    (_, seen), = pending_calls(w3, contract, artist)
    copied_reveal = send(w3, contract, attacker, "registerTrack", list(seen.values()), HIGH_TIP)
    own_salt = os.urandom(32)
    own_commit = send(w3, contract, attacker, "commitRegistration",
                      [make_commitment(seen["audioHash"], attacker, own_salt)], HIGH_TIP)  # fmt: skip
    mine(w3)
    assert not succeeded(w3, copied_reveal) and succeeded(w3, own_commit) and succeeded(w3, artist_reveal)
    own_reveal = send(w3, contract, attacker, "registerTrack", [audio_hash, own_salt, cid_v0(), cid_v0(), []], HIGH_TIP)
    mine(w3)
    assert not succeeded(w3, own_reveal)
    assert contract.functions.getTrack(audio_hash).call()[0] == artist
    with pytest.raises(Exception) as refused:
        contract.functions.registerTrack(audio_hash, own_salt, cid_v0(), cid_v0(), []).call({"from": attacker})
    assert "TrackAlreadyRegistered" in _decoded(contract, refused.value)


def test_delaying_the_reveal_loses_too(w3, chain_under_attack, accounts):
    """Even when the attacker keeps the artist's reveal out of blocks long enough to commit and
    reveal first, the artist's older commitment takes the track back: the earliest commitment wins."""
    contract, artist, attacker = chain_under_attack, accounts[1].address, accounts[7].address
    audio_hash, salt, own_salt = os.urandom(32), os.urandom(32), os.urandom(32)
    send(w3, contract, artist, "commitRegistration", [make_commitment(audio_hash, artist, salt)], LOW_TIP)
    mine(w3)
    send(w3, contract, attacker, "commitRegistration", [make_commitment(audio_hash, attacker, own_salt)], HIGH_TIP)
    mine(w3)
    send(w3, contract, attacker, "registerTrack", [audio_hash, own_salt, cid_v0(), cid_v0(), []], HIGH_TIP)
    mine(w3)
    assert contract.functions.getTrack(audio_hash).call()[0] == attacker  # for now
    late_reveal = send(w3, contract, artist, "registerTrack", [audio_hash, salt, cid_v0(), cid_v0(), []], LOW_TIP)
    mine(w3)
    receipt = w3.eth.get_transaction_receipt(late_reveal)
    assert receipt["status"] == 1
    superseded = contract.events.RegistrationSuperseded().process_receipt(receipt)
    assert [e.args.previousArtist for e in superseded] == [attacker]
    assert contract.functions.getTrack(audio_hash).call()[0] == artist


def test_copying_a_relayed_reveal_still_registers_for_the_artist(w3, chain_under_attack, registry, accounts):
    contract, relayer, attacker = chain_under_attack, accounts[5].address, accounts[7].address
    gasless = Account.create()
    audio_hash, salt = os.urandom(32), os.urandom(32)
    send(w3, contract, relayer, "commitRegistration", [make_commitment(audio_hash, gasless.address, salt)], LOW_TIP)
    mine(w3)
    args = relayed_args(registry, gasless, audio_hash, cid_v0(), cid_v0(), salt=salt)
    relayed = send(w3, contract, relayer, "registerTrackFor", args, LOW_TIP)
    (_, seen), = pending_calls(w3, contract, relayer)
    copied = send(w3, contract, attacker, "registerTrackFor", list(seen.values()), HIGH_TIP)
    forged = dict(seen, artist=attacker)  # the same signature cannot name another artist
    forged_tx = send(w3, contract, attacker, "registerTrackFor", list(forged.values()), HIGH_TIP)
    mine(w3)
    assert succeeded(w3, copied) and not succeeded(w3, relayed) and not succeeded(w3, forged_tx)
    event, = contract.events.TrackRegistered().process_receipt(w3.eth.get_transaction_receipt(copied))
    assert event.args.artist == gasless.address and event.args.relayer == attacker
    assert contract.functions.getTrack(audio_hash).call()[0] == gasless.address


def _decoded(contract, exc) -> str:
    from qfzz_chain.chain.transactions import decode_custom_error

    return decode_custom_error(contract.abi, exc.data).error
