"""The stored form: Chromaprint's own compressed fingerprint, canonical, checked on the way in."""

from __future__ import annotations

import base64
import json
import subprocess

import numpy as np
import pytest

from qfzz_chain.fingerprint import Fingerprint, InvalidFingerprintError, decode_items, encode_items
from qfzz_chain.fingerprint.codec import SILENCE_ITEM, seconds_for_items


def test_encoding_is_the_compressed_string_fpcalc_prints(track, fingerprint_of):
    done = subprocess.run(["fpcalc", "-json", "-length", "600", str(track)], capture_output=True, text=True)
    printed = json.loads(done.stdout)["fingerprint"]
    assert encode_items(fingerprint_of(track).items) == printed


def test_metadata_round_trips_through_json(track, fingerprint_of):
    fingerprint = fingerprint_of(track)
    stored = json.loads(json.dumps(fingerprint.to_metadata(), sort_keys=True))
    assert stored["algorithm"] == "chromaprint-2" and set(stored) == {"algorithm", "data", "duration_seconds"}
    assert Fingerprint.from_metadata(stored) == fingerprint
    assert stored["duration_seconds"] == 12.0


def test_stored_form_is_small(track, fingerprint_of):
    fingerprint = fingerprint_of(track)
    stored = json.dumps(fingerprint.to_metadata(), separators=(",", ":"))
    assert len(fingerprint) == (12 * 11_025 - 30_031) // 1365 + 1 == 75
    assert len(stored) < 4 * len(fingerprint) * 4 / 3  # smaller than base64 of the raw uint32 array


@pytest.mark.parametrize(
    "items",
    [
        [],
        [0],
        [0xFFFFFFFF, 0, 0xFFFFFFFF],
        [1 << 31, 1, 1 << 31],  # gaps of 32 and 31 bits: the 5-bit exceptional stream
        [SILENCE_ITEM] * 9,
        np.random.default_rng(3).integers(0, 1 << 32, 2000, dtype=np.uint64).astype(np.uint32),
    ],
    ids=["empty", "zero", "all-bits", "long-gaps", "silence", "random-2000"],
)
def test_items_round_trip(items):
    items = np.asarray(items, dtype=np.uint32)
    assert np.array_equal(decode_items(encode_items(items)), items)


def test_fingerprint_is_immutable_and_compares_by_value():
    source = np.array([1, 2, 3], dtype=np.uint32)
    fingerprint = Fingerprint(source, 3.5)
    source[0] = 99  # the caller's array is copied, not kept
    assert fingerprint.items[0] == 1
    with pytest.raises(ValueError):
        fingerprint.items[0] = 5
    assert fingerprint == Fingerprint([1, 2, 3], 3.5) != Fingerprint([1, 2, 3], 3.0)
    assert len({fingerprint, Fingerprint([1, 2, 3], 3.5)}) == 1


def test_item_arithmetic_matches_chromaprint():
    assert seconds_for_items(0) == 0.0
    assert seconds_for_items(1) == pytest.approx(30_031 / 11_025)  # 2.72 s: nothing shorter has an item
    assert seconds_for_items(75) == pytest.approx((30_031 + 74 * 1365) / 11_025)  # 11.9 s


@pytest.mark.parametrize(
    "stored, problem",
    [
        ("not an object", "must be a JSON object"),
        ({"algorithm": "chromaprint-2", "data": "AQAAAA"}, "keys"),
        ({"algorithm": "chromaprint-1", "data": "AQAAAA", "duration_seconds": 1.0}, "unknown fingerprint algorithm"),
        ({"algorithm": "chromaprint-2", "data": "AQAAAA", "duration_seconds": -1}, "non-negative"),
        ({"algorithm": "chromaprint-2", "data": "AQAAAA", "duration_seconds": True}, "non-negative"),
        ({"algorithm": "chromaprint-2", "data": 7, "duration_seconds": 1.0}, "base64url string"),
        ({"algorithm": "chromaprint-2", "data": "AQ!!", "duration_seconds": 1.0}, "not base64url"),
        ({"algorithm": "chromaprint-2", "data": "AQA", "duration_seconds": 1.0}, "4-byte header"),
        ({"algorithm": "chromaprint-2", "data": "AgAAAA", "duration_seconds": 1.0}, "algorithm 3"),
    ],
)
def test_malformed_stored_fingerprints_are_refused(stored, problem):
    with pytest.raises(InvalidFingerprintError, match=problem):
        Fingerprint.from_metadata(stored)


def test_truncated_and_padded_data_are_refused():
    data = encode_items(np.arange(1, 200, dtype=np.uint32) * 2654435761)
    with pytest.raises(InvalidFingerprintError, match="truncated"):
        decode_items(data[: len(data) // 2])
    with pytest.raises(InvalidFingerprintError, match="canonical"):
        decode_items(data + "AAAA")  # decodes to the same items, but is not the one encoding
    claims_more = encode_items(np.array([5, 6], dtype=np.uint32))
    raw = bytearray(base64.urlsafe_b64decode(claims_more + "=" * (-len(claims_more) % 4)))
    raw[3] = 9  # the header says nine items, the body holds two
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidFingerprintError, match="truncated"):
        decode_items(forged)
