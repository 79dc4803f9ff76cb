"""The typed boundary values and the EIP-712 messages, checked against what the contract accepts."""

from __future__ import annotations

import os
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from multiformats import CID

from qfzz_chain.chain.signatures import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    ERC1271_MAGIC,
    invalidate_nonce_typed_data,
    register_track_typed_data,
    sign_typed_data,
    signature_is_valid,
)
from qfzz_chain.chain.track_registry import make_commitment
from qfzz_chain.chain.types import CidParts, Parent, Relation
from qfzz_chain.errors import InvalidCidError
from tests.chain.conftest import deploy, funded_key_sender

HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"  # kubo's CID of "hello world\n"


# ---- types -------------------------------------------------------------------------------------


def test_relations_mirror_the_contracts_enum():
    assert [(r.name, int(r)) for r in Relation] == [("REMIX", 0), ("SAMPLE", 1), ("COVER", 2)]


def test_cid_parts_rebuild_the_exact_cid_string():
    v0 = CidParts.from_cid(CID.decode(HELLO_V0))
    assert (v0.version, v0.codec, v0.hash_function, len(v0.digest)) == (0, 0x70, 0x12, 32)
    assert str(v0) == HELLO_V0 and str(v0.to_cid()) == HELLO_V0
    v1 = CID.decode(HELLO_V0).set(version=1, base="base32")
    raw = CidParts(1, 0x55, 0x12, v0.digest)
    assert str(raw).startswith("bafkrei") and str(CidParts.from_cid(v1)) == str(v1)
    assert raw.as_tuple() == (1, 0x55, 0x12, v0.digest)


def test_cid_parts_from_the_contracts_tuple_or_event_mapping():
    digest = os.urandom(32)
    expected = CidParts(1, 0x71, 0x12, digest)
    assert CidParts.from_tuple((1, 0x71, 0x12, bytearray(digest))) == expected
    assert CidParts.from_tuple({"version": 1, "codec": 0x71, "hashFunction": 0x12, "digest": digest}) == expected


def test_a_digest_other_than_32_bytes_is_refused_with_its_length():
    identity = CID("base32", 1, "raw", ("identity", b"short"))
    with pytest.raises(InvalidCidError, match="this one has 5"):
        CidParts.from_cid(identity)


def test_parents_from_the_contracts_tuple_or_event_mapping():
    track_id = os.urandom(32)
    parent = Parent(track_id, Relation.COVER)
    assert Parent.from_tuple((bytearray(track_id), 2)) == parent
    assert Parent.from_tuple({"trackId": track_id, "relation": 2}) == parent
    assert parent.as_tuple() == (track_id, 2)
    assert isinstance(Parent.from_tuple((track_id, 1)).relation, Relation)


# ---- EIP-712 messages ------------------------------------------------------------------------


def _typed(registry, artist: str, **changes) -> dict:
    fields = dict(chain_id=registry.w3.eth.chain_id, registry=registry.address, artist=artist,
                  audio_hash=os.urandom(32), content=CidParts(0, 0x70, 0x12, os.urandom(32)),
                  metadata=CidParts(1, 0x71, 0x12, os.urandom(32)), parents=[], nonce=0,
                  deadline=int(time.time()) + 3600)  # fmt: skip
    fields.update(changes)
    return register_track_typed_data(**fields)


def test_register_track_message_fields():
    content, metadata = CidParts(0, 0x70, 0x12, b"\x01" * 32), CidParts(1, 0x55, 0x12, b"\x02" * 32)
    parent = Parent(b"\x03" * 32, Relation.SAMPLE)
    typed = register_track_typed_data(chain_id=5, registry="0x" + "11" * 20, artist="0x" + "22" * 20,
                                      audio_hash=b"\x04" * 32, content=content, metadata=metadata, parents=[parent],
                                      nonce=7, deadline=99)  # fmt: skip
    assert typed["primaryType"] == "RegisterTrack"
    assert typed["domain"] == {"name": "QFZZ TrackRegistry", "version": "2", "chainId": 5,
                               "verifyingContract": "0x" + "11" * 20}  # fmt: skip
    assert sorted(typed["types"]) == ["Cid", "Parent", "RegisterTrack"]
    assert typed["message"] == {
        "artist": "0x" + "22" * 20, "audioHash": b"\x04" * 32,
        "content": {"version": 0, "codec": 0x70, "hashFunction": 0x12, "digest": b"\x01" * 32},
        "metadata": {"version": 1, "codec": 0x55, "hashFunction": 0x12, "digest": b"\x02" * 32},
        "parents": [{"trackId": b"\x03" * 32, "relation": 1}], "nonce": 7, "deadline": 99,
    }  # fmt: skip
    invalidation = invalidate_nonce_typed_data(chain_id=5, registry="0x" + "11" * 20, artist="0x" + "22" * 20,
                                               nonce=3, deadline=9)  # fmt: skip
    assert invalidation["primaryType"] == "InvalidateNonce" and list(invalidation["types"]) == ["InvalidateNonce"]
    assert invalidation["message"] == {"artist": "0x" + "22" * 20, "nonce": 3, "deadline": 9}
    assert invalidation["domain"] == typed["domain"]


def test_a_signature_is_65_bytes_that_recover_to_the_signer(registry):
    account = Account.create()
    typed = _typed(registry, account.address)
    signature = sign_typed_data(bytes(account.key), typed)
    assert len(signature) == 65 and isinstance(signature, bytes)
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=signature) == account.address
    assert sign_typed_data(account.key.hex(), typed) == signature


def test_the_contract_accepts_the_python_signatures(w3, registry, node_senders):
    """The typed data (names, types, order, domain) hash exactly as the contract's EIP-712 code."""
    relayer = node_senders[9]
    original = os.urandom(32)
    salt = os.urandom(32)
    registry.commit(relayer, make_commitment(original, relayer.address, salt))
    registry.register(relayer, original, salt, CidParts(0, 0x70, 0x12, os.urandom(32)), CidParts(0, 0x70, 0x12, os.urandom(32)))
    artist = Account.create()
    parents = (Parent(original, Relation.SAMPLE),)
    typed = _typed(registry, artist.address, parents=list(parents))
    message = typed["message"]
    audio_hash = message["audioHash"]
    registry.commit(relayer, make_commitment(audio_hash, artist.address, salt))
    registry.register_for(relayer, artist=artist.address, audio_hash=audio_hash, salt=salt,
                          content=CidParts.from_tuple(message["content"]), metadata=CidParts.from_tuple(message["metadata"]),
                          parents=parents, deadline=message["deadline"],
                          signature=sign_typed_data(bytes(artist.key), typed))  # fmt: skip
    assert registry.get(audio_hash).artist == artist.address
    invalidation = invalidate_nonce_typed_data(chain_id=w3.eth.chain_id, registry=registry.address,
                                               artist=artist.address, nonce=0, deadline=message["deadline"])  # fmt: skip
    registry.invalidate_nonce_for(relayer, artist=artist.address, deadline=message["deadline"],
                                  signature=sign_typed_data(bytes(artist.key), invalidation))  # fmt: skip
    assert registry.nonce(artist.address) == 1
    domain = registry.contract.functions.eip712Domain().call()
    assert (domain[1], domain[2]) == (DOMAIN_NAME, DOMAIN_VERSION) == ("QFZZ TrackRegistry", "2")


# ---- what the relayer checks before spending gas -----------------------------------------------


def test_an_eoa_signature_is_valid_only_for_its_signer(w3, registry):
    artist, other = Account.create(), Account.create()
    typed = _typed(registry, artist.address)
    signature = sign_typed_data(bytes(artist.key), typed)
    assert signature_is_valid(w3, artist.address.lower(), typed, signature)
    assert not signature_is_valid(w3, artist.address, typed, sign_typed_data(bytes(other.key), typed))
    assert not signature_is_valid(w3, artist.address, _typed(registry, artist.address), signature)
    assert not signature_is_valid(w3, artist.address, typed, b"\x00" * 65)  # malformed: no exception


def test_a_contract_wallet_answers_for_itself(w3, registry):
    owner, stranger = Account.create(), Account.create()
    wallet = deploy(w3, "ERC1271Wallet", owner.address).address
    typed = _typed(registry, wallet)
    assert signature_is_valid(w3, wallet, typed, sign_typed_data(bytes(owner.key), typed))
    assert not signature_is_valid(w3, wallet, typed, sign_typed_data(bytes(stranger.key), typed))
    # the owner's key alone is not the wallet: an EOA check of the wallet's address would fail too
    assert not signature_is_valid(w3, owner.address, typed, sign_typed_data(bytes(stranger.key), typed))
    assert ERC1271_MAGIC == bytes.fromhex("1626ba7e")


def test_a_contract_that_is_no_wallet_refuses_every_signature(w3, registry):
    """The registry has no isValidSignature: the call reverts, which is a refusal, not a crash."""
    key = funded_key_sender(w3, 0)
    typed = _typed(registry, registry.address)
    assert not signature_is_valid(w3, registry.address, typed, sign_typed_data(key.private_key, typed))
