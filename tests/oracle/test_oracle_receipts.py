"""Receipts and epoch inputs: the leaf encoding, the files listeners keep, the committed inputs."""

import json
import os

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from qfzz_chain.oracle.epoch import EpochInputs, Request, Sponsorship
from qfzz_chain.oracle.errors import BatchError, ReceiptFormatError
from qfzz_chain.oracle.receipts import LEAF_TYPES, Receipt, ReceiptFile, fixed_point, lastfm_item_id, leaf_hash

words = st.binary(min_size=32, max_size=32)
receipts = st.builds(
    Receipt, epoch=st.integers(0, 2**64 - 1), model_version=st.integers(0, 2**32 - 1), listener_commitment=words,
    item_id=words, rank=st.integers(0, 2**16 - 1), score=st.integers(-(2**63), 2**63 - 1), explanation_hash=words,
    explanation_cid=words, sponsored=st.booleans(), sponsor=st.binary(min_size=20, max_size=20),
)  # fmt: skip


@given(receipts)
def test_the_leaf_is_the_standard_leaf_of_the_abi_encoding(receipt):
    assert leaf_hash(receipt) == keccak(keccak(encode(list(LEAF_TYPES), list(receipt.values()))))


def test_fixed_point_scores():
    assert fixed_point(1.2345674) == 1_234_567 and fixed_point(-0.0000005) == 0 and fixed_point(2.5e-6) == 2
    with pytest.raises(ValueError):
        fixed_point(1e13)


def test_lastfm_item_ids_are_keccak_of_their_name():
    assert lastfm_item_id(89) == keccak(b"qfzz.lastfm-2k.artist:89") != lastfm_item_id(90)


def _file(**changes) -> ReceiptFile:
    receipt = Receipt(3, 1, os.urandom(32), lastfm_item_id(89), 2, -1_500_000, os.urandom(32), os.urandom(32), True,
                      bytes.fromhex("ab" * 20))  # fmt: skip
    return ReceiptFile(31337, "0x" + "12" * 20, receipt, os.urandom(32), 40, (os.urandom(32), os.urandom(32)),
                       "lastfm:2", os.urandom(32), "Lady Gaga", "lastfm-artist", 89, **changes)  # fmt: skip


def test_receipt_files_round_trip():
    file = _file()
    assert ReceiptFile.from_json(file.to_json()) == file


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("proof"), lambda d: d.update(schema="other/1"), lambda d: d["receipt"].update(rank=-1),
    lambda d: d["receipt"].update(item_id="0x12"), lambda d: d["receipt"].update(sponsored="yes"),
    lambda d: d.update(salt="zz"), lambda d: d.update(oracle="0x1234"),
])  # fmt: skip
def test_a_damaged_receipt_file_is_named(damage):
    document = json.loads(_file().to_json())
    damage(document)
    with pytest.raises(ReceiptFormatError, match="not a receipt"):
        ReceiptFile.from_json(json.dumps(document))


def _inputs() -> EpochInputs:
    requests = (Request("lastfm:7", "0x" + "11" * 32, ((1001, 2.0),), 5, 1), Request("lastfm:3", "0x" + "22" * 32))
    return EpochInputs(4, 2, requests, (Sponsorship("0x" + "33" * 32, "0x" + "ab" * 20, 2, ("lastfm:3",)),))


def test_inputs_are_canonical_and_committed_by_their_sha256():
    inputs = _inputs()
    data = inputs.canonical_bytes()
    assert EpochInputs.from_bytes(data, inputs.digest) == EpochInputs(4, 2, tuple(sorted(inputs.requests,
                                                        key=lambda r: r.listener)), inputs.sponsorships)  # fmt: skip
    reordered = EpochInputs(4, 2, tuple(reversed(inputs.requests)), inputs.sponsorships)
    assert reordered.canonical_bytes() == data and reordered.digest == inputs.digest
    with pytest.raises(BatchError, match="do not hash"):
        EpochInputs.from_bytes(data.replace(b"lastfm:7", b"lastfm:8"), inputs.digest)
    with pytest.raises(BatchError, match="canonical"):
        EpochInputs.from_bytes(json.dumps(json.loads(data), indent=1).encode())


@pytest.mark.parametrize("bad", [{"listener": "spotify:1"}, {"n": 0}, {"commitment": "0x12"}, {"listens": [[1, 0]]}])
def test_malformed_requests_are_refused(bad):
    value = Request("lastfm:7", "0x" + "11" * 32).to_json() | bad
    with pytest.raises(BatchError):
        Request.from_json(value)
