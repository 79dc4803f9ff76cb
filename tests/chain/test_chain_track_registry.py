"""The registry client: typed reads, every write, and a track's history rebuilt from events."""

from __future__ import annotations

import os
import time

import pytest
from eth_account import Account
from web3 import Web3

from qfzz_chain.chain import contract as contract_module
from qfzz_chain.chain import track_registry as track_registry_module
from qfzz_chain.chain.abi import load_abi
from qfzz_chain.chain.errors import DeploymentError, TransactionReverted, UnknownTrackError
from qfzz_chain.chain.signatures import invalidate_nonce_typed_data, register_track_typed_data, sign_typed_data
from qfzz_chain.chain.contract import LOG_CHUNK_BLOCKS
from qfzz_chain.chain.track_registry import TrackHistory, TrackRegistry, make_commitment
from qfzz_chain.chain.types import CidParts, Parent, Relation
from tests.chain.conftest import deploy


def cid(version: int = 0, codec: int = 0x70) -> CidParts:
    return CidParts(version, codec, 0x12, os.urandom(32))


def register(registry, sender, parents=(), content=None, metadata=None):
    """Commit and reveal (the reveal in the block right after the commitment's)."""
    audio_hash, salt = os.urandom(32), os.urandom(32)
    commit = registry.commit(sender, make_commitment(audio_hash, sender.address, salt))
    reveal = registry.register(sender, audio_hash, salt, content or cid(), metadata or cid(), tuple(parents))
    assert reveal.block == commit.block + 1
    return audio_hash, commit, reveal


def test_make_commitment_is_the_contracts(registry):
    audio_hash, salt = os.urandom(32), os.urandom(32)
    artist = Account.create().address
    expected = registry.contract.functions.makeCommitment(audio_hash, artist, salt).call()
    assert make_commitment(audio_hash, artist.lower(), salt) == bytes(expected)


def test_reads_of_a_registered_track(w3, registry, node_senders):
    artist = node_senders[1]
    track_id, commit, reveal = register(registry, artist)
    record = registry.get(track_id)
    timestamp = w3.eth.get_block(reveal.block)["timestamp"]
    assert record == track_registry_module.TrackRecord(track_id, artist.address, timestamp, commit.block, 0)
    assert registry.is_registered(track_id) and not registry.is_final(track_id)
    assert registry.max_commitment_age() == 86_400
    assert registry.pending_artist(track_id) == "0x" + "00" * 20
    assert registry.nonce(artist.address.lower()) == 0


def test_an_unknown_track_is_named(registry):
    unknown = os.urandom(32)
    assert not registry.is_registered(unknown)
    with pytest.raises(UnknownTrackError, match=f"no track 0x{unknown.hex()} is registered"):
        registry.get(unknown)
    with pytest.raises(UnknownTrackError, match=f"no track 0x{unknown.hex()}"):
        registry.history(unknown)
    with pytest.raises(TransactionReverted) as raised:  # other reverts stay TransactionReverted
        registry.is_final(unknown)
    assert raised.value.error == "TrackNotRegistered"


def test_commitments_are_read_back_until_revealed(w3, registry, node_senders):
    sender = node_senders[2]
    audio_hash, salt = os.urandom(32), os.urandom(32)
    commitment = make_commitment(audio_hash, sender.address, salt)
    assert registry.commitment_of(commitment) == (0, 0)
    receipt = registry.commit(sender, commitment)
    assert registry.commitment_of(commitment) == (receipt.block, w3.eth.get_block(receipt.block)["timestamp"])
    registry.register(sender, audio_hash, salt, cid(), cid())
    assert registry.commitment_of(commitment) == (0, 0)


def test_metadata_transfers_and_nonces_through_the_client(w3, registry, node_senders):
    artist, heir = node_senders[1], node_senders[2]
    track_id, _, _ = register(registry, artist)
    registry.update_metadata(artist, track_id, cid(1, 0x71))
    assert registry.get(track_id).metadata_version == 1
    registry.propose_transfer(artist, track_id, heir.address.lower())
    assert registry.pending_artist(track_id) == heir.address
    registry.accept_transfer(heir, track_id)
    assert registry.get(track_id).artist == heir.address
    registry.invalidate_nonce(heir)
    assert registry.nonce(heir.address) == 1


def test_relayed_writes_through_the_client(w3, registry, node_senders):
    relayer, artist = node_senders[9], Account.create()
    audio_hash, salt, content, metadata = os.urandom(32), os.urandom(32), cid(1, 0x55), cid()
    deadline = int(time.time()) + 3600
    typed = register_track_typed_data(chain_id=w3.eth.chain_id, registry=registry.address, artist=artist.address,
                                      audio_hash=audio_hash, content=content, metadata=metadata, parents=[], nonce=0,
                                      deadline=deadline)  # fmt: skip
    registry.commit(relayer, make_commitment(audio_hash, artist.address, salt))
    registry.register_for(relayer, artist=artist.address.lower(), audio_hash=audio_hash, salt=salt, content=content,
                          metadata=metadata, parents=(), deadline=deadline,
                          signature=sign_typed_data(bytes(artist.key), typed))  # fmt: skip
    history = registry.history(audio_hash)
    assert (history.artist, history.registration.relayer) == (artist.address, relayer.address)
    invalidation = invalidate_nonce_typed_data(chain_id=w3.eth.chain_id, registry=registry.address,
                                               artist=artist.address, nonce=0, deadline=deadline)  # fmt: skip
    registry.invalidate_nonce_for(relayer, artist=artist.address.lower(), deadline=deadline,
                                  signature=sign_typed_data(bytes(artist.key), invalidation))  # fmt: skip
    assert registry.nonce(artist.address) == 1


# ---- finding a registry --------------------------------------------------------------------------


def test_from_record_binds_the_recorded_deployment(w3, record):
    registry = TrackRegistry.from_record(w3, record)
    deployment = record.contracts["TrackRegistry"]
    assert (registry.address, registry.abi, registry.first_block) == (deployment.address, deployment.abi, deployment.block)
    assert registry.first_block > 0


def test_at_checks_the_address_is_a_qfzz_registry(w3, registry):
    found = TrackRegistry.at(w3, registry.address.lower())
    assert found.address == registry.address and found.abi == load_abi("TrackRegistry") and found.first_block == 0
    with pytest.raises(DeploymentError, match="'nope' is not an address"):
        TrackRegistry.at(w3, "nope")
    empty = Web3.to_checksum_address("0x" + "34" * 20)
    with pytest.raises(DeploymentError, match=f"no contract at {empty} on chain {w3.eth.chain_id}"):
        TrackRegistry.at(w3, empty)
    wallet = deploy(w3, "ERC1271Wallet", empty).address
    with pytest.raises(DeploymentError, match=f"{wallet} is not a QFZZ TrackRegistry$"):
        TrackRegistry.at(w3, wallet)


def test_at_refuses_a_registry_whose_domain_is_not_this_chains(w3, registry, monkeypatch):
    """A registry's domain names its own chain and address; any mismatch is another registry."""
    monkeypatch.setattr(track_registry_module, "DOMAIN_VERSION", "3")
    with pytest.raises(DeploymentError, match="is not a QFZZ TrackRegistry version 3"):
        TrackRegistry.at(w3, registry.address)


# ---- history from events -------------------------------------------------------------------------


def test_a_history_tells_registration_metadata_and_transfers_in_order(w3, registry, node_senders):
    artist, heir, remixer = node_senders[1], node_senders[2], node_senders[3]
    content, metadata = cid(1, 0x55), cid(1, 0x71)
    track_id, _, reveal = register(registry, artist, content=content, metadata=metadata)
    assert registry.history(track_id).metadata == track_registry_module.MetadataVersion(
        0, metadata, reveal.block, reveal.transaction)
    first, second = cid(), cid(1, 0x71)
    update_one = registry.update_metadata(artist, track_id, first)
    update_two = registry.update_metadata(artist, track_id, second)
    registry.propose_transfer(artist, track_id, heir.address)
    accepted = registry.accept_transfer(heir, track_id)
    remix_id, _, remix_reveal = register(registry, remixer, parents=[Parent(track_id, Relation.COVER)])

    history = registry.history(track_id)
    registration = history.registration
    assert (registration.track_id, registration.artist, registration.relayer) == (track_id, artist.address, artist.address)
    assert (registration.content, registration.metadata, registration.parents) == (content, metadata, ())
    assert (registration.block, registration.transaction) == (reveal.block, reveal.transaction)
    assert registration.timestamp == w3.eth.get_block(reveal.block)["timestamp"]
    assert history.metadata_versions == [
        track_registry_module.MetadataVersion(1, first, update_one.block, update_one.transaction),
        track_registry_module.MetadataVersion(2, second, update_two.block, update_two.transaction),
    ]
    assert history.metadata == history.metadata_versions[-1]
    assert history.attribution_changes == [
        track_registry_module.AttributionChange(artist.address, heir.address, accepted.block, accepted.transaction)]
    assert history.artist == heir.address and history.superseded == []

    remix = registry.history(remix_id)
    assert remix.registration.parents == (Parent(track_id, Relation.COVER),)
    assert remix.artist == remixer.address and remix.registration.block == remix_reveal.block
    everything = registry.histories()
    assert list(everything) == [track_id, remix_id]  # oldest registration first
    assert set(registry.histories(remix_id)) == {remix_id}


def test_a_take_over_starts_the_history_anew(w3, registry, node_senders):
    artist, copier = node_senders[1], node_senders[4]
    audio_hash, artist_salt, copier_salt = os.urandom(32), os.urandom(32), os.urandom(32)
    registry.commit(artist, make_commitment(audio_hash, artist.address, artist_salt))
    registry.commit(copier, make_commitment(audio_hash, copier.address, copier_salt))
    copied = registry.register(copier, audio_hash, copier_salt, cid(), cid())
    registry.update_metadata(copier, audio_hash, cid())
    registry.propose_transfer(copier, audio_hash, node_senders[5].address)
    registry.accept_transfer(node_senders[5], audio_hash)
    taken = registry.register(artist, audio_hash, artist_salt, cid(), cid())

    history = registry.history(audio_hash)
    assert history.registration.artist == artist.address and history.registration.block == taken.block
    assert [r.artist for r in history.superseded] == [copier.address]
    assert history.superseded[0].block == copied.block
    assert history.metadata_versions == [] and history.attribution_changes == [] and history.artist == artist.address


def test_history_reads_logs_in_chunks_without_gaps_or_repeats(w3, registry, node_senders, monkeypatch):
    """Public RPCs cap eth_getLogs ranges: a scan in chunks must see every event exactly once."""
    monkeypatch.setattr(contract_module, "LOG_CHUNK_BLOCKS", 2)
    assert LOG_CHUNK_BLOCKS == 10_000
    artist = node_senders[1]
    track_id, _, _ = register(registry, artist)
    updates = [registry.update_metadata(artist, track_id, cid()).block for _ in range(5)]
    others = [register(registry, artist)[0] for _ in range(3)]
    history = registry.history(track_id)
    assert [v.version for v in history.metadata_versions] == [1, 2, 3, 4, 5]
    assert [v.block for v in history.metadata_versions] == updates
    assert list(registry.histories()) == [track_id, *others]


def test_history_starts_at_the_deploy_block(w3, registry, node_senders):
    artist = node_senders[1]
    track_id, _, reveal = register(registry, artist)
    later = TrackRegistry(w3, registry.address, registry.abi, reveal.block + 1)
    assert later.histories() == {}
    at_reveal = TrackRegistry(w3, registry.address, registry.abi, reveal.block)
    assert list(at_reveal.histories()) == [track_id]


def test_block_timestamps_are_read_once_per_block(w3, registry, node_senders, monkeypatch):
    artist = node_senders[1]
    track_id, _, reveal = register(registry, artist)
    registry.histories()
    asked = []
    original = w3.eth.get_block
    monkeypatch.setattr(w3.eth, "get_block", lambda block, *a, **k: asked.append(block) or original(block, *a, **k))
    assert registry.histories()[track_id].registration.timestamp == original(reveal.block)["timestamp"]
    assert asked == []


def test_a_history_without_changes_reports_the_registration(registry, node_senders):
    artist = node_senders[1]
    track_id, _, reveal = register(registry, artist)
    history: TrackHistory = registry.history(track_id)
    assert history.artist == artist.address
    assert history.metadata.version == 0 and history.metadata.block == reveal.block
