"""Summaries: the M-byte bound, the quantisation, and a parser that rejects what it cannot trust."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qfzz_chain.p2p.errors import MalformedMessageError
from qfzz_chain.p2p.summary import (
    QUANTUM,
    Profile,
    capacity,
    decode_summary,
    dequantize,
    encode_summary,
    encoded_size,
    quantize,
)

profiles = st.dictionaries(st.integers(0, 70000), st.integers(1, 400000), min_size=0, max_size=80).map(
    lambda d: Profile.from_plays(np.array(list(d), dtype=np.int64), np.array(list(d.values()), dtype=np.float64)))


def test_codes_are_log_steps_and_clip_at_both_ends():
    codes = quantize(np.array([1, 2, 10, 1000, 352698, 10**9]))
    assert codes.dtype == np.uint8
    # log1p: 0.69, 1.10, 2.40, 6.91, 12.78, 20.7 over steps of 0.8
    assert codes.tolist() == [1, 1, 3, 9, 15, 15]
    assert abs(float(dequantize(codes[:1])[0]) - np.log1p(1)) <= QUANTUM / 2
    assert quantize(np.array([0.0]))[0] == 1  # never 0: a code of 0 is malformed on the wire


def test_a_lastfm_sized_profile_takes_two_and_a_half_bytes_an_artist():
    profile = Profile.from_plays(np.arange(100, 140), np.arange(1, 41))
    assert len(encode_summary(profile, 1024)) == encoded_size(40) == 101
    assert encoded_size(41) == 104  # an odd count pads the last nibble


def test_codes_pack_two_to_a_byte_high_nibble_first():
    profile = Profile(np.array([7, 9, 300], dtype=np.int64), np.array([1, 15, 6], dtype=np.uint8))
    blob = encode_summary(profile, 100)
    assert blob == b"\x02\x00\x07\x00\x09\x01\x2c" + bytes([0x1F, 0x60])
    decoded = decode_summary(blob)
    assert decoded.items.tolist() == [7, 9, 300] and decoded.codes.tolist() == [1, 15, 6]


@pytest.mark.parametrize("budget", range(0, 40))
def test_capacity_is_the_largest_count_that_fits(budget):
    for width in (2, 4):
        fits = capacity(budget, width)
        assert fits == 0 or encoded_size(fits, width) <= budget
        assert encoded_size(fits + 1, width) > budget


@settings(max_examples=80, deadline=None)
@given(profiles, st.integers(4, 400))
def test_summary_never_exceeds_its_budget_and_keeps_the_strongest_artists(profile, budget):
    blob = encode_summary(profile, budget)
    assert len(blob) <= max(budget, 1)
    decoded = decode_summary(blob)
    width = blob[0]
    assert len(decoded) == min(len(profile), capacity(budget, width))
    assert set(decoded.items.tolist()) <= set(profile.items.tolist())
    if 0 < len(decoded) < len(profile):  # truncated: nothing left out is stronger than what went in
        left_out = profile.without(decoded.items)
        assert int(left_out.codes.max()) <= int(decoded.codes.min())
    codes = dict(zip(profile.items.tolist(), profile.codes.tolist()))
    assert all(codes[i] == c for i, c in zip(decoded.items.tolist(), decoded.codes.tolist()))


def test_ids_past_16_bits_switch_to_four_byte_width():
    profile = Profile.from_plays(np.array([5, 70000]), np.array([3.0, 4.0]))
    blob = encode_summary(profile, 100)
    assert blob[0] == 4 and len(blob) == 1 + 4 * 2 + 1
    assert decode_summary(blob).items.tolist() == [5, 70000]


@pytest.mark.parametrize("blob, reason", [
    (b"", "empty"),
    (b"\x03\x00\x01\x05", "width"),
    (b"\x02\x00\x01", "whole number"),
    (b"\x02\x00\x01\x50\x07", "whole number"),
    (b"\x02\x00\x09\x00\x03\x55", "ascending"),
    (b"\x02\x00\x03\x00\x09\x50", "code 0"),
    (b"\x02\x00\x03\x51", "padding"),
])
def test_malformed_summaries_name_their_fault(blob, reason):
    with pytest.raises(MalformedMessageError, match=reason):
        decode_summary(blob)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_malformed(blob):
    try:
        profile = decode_summary(blob)
    except MalformedMessageError:
        return
    assert np.all(np.diff(profile.items) > 0) and np.all(profile.codes >= 1)
