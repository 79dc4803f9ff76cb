"""Salted commitments: the documented format, eth_abi's and Solidity's bytes, opening rules."""

from __future__ import annotations

import pytest
from eth_abi import encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qfzz_chain.zk.commitments import commit, make_commitment, new_salt, verify_commitment
from qfzz_chain.zk.errors import CommitmentError
from qfzz_chain.zk.merkle import keccak256

# generation speed, not correctness: a contended 2-core machine can trip these
SLOW_MACHINE = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(salt=st.binary(min_size=32, max_size=32), value=st.binary(max_size=130))
def test_the_commitment_is_keccak_of_abi_encode_salt_value(salt, value):
    assert make_commitment(salt, value) == keccak256(encode(["bytes32", "bytes"], [salt, value]))


def test_solidity_computes_the_same_commitment(merkle_harness):
    for value in (b"", b"listener-42", "lístener ♪".encode(), bytes(range(64)), bytes(65)):
        salt = new_salt()
        assert bytes(merkle_harness.commitment(salt, value)) == make_commitment(salt, value)


def test_commit_opens_with_its_salt_only():
    commitment, salt = commit(b"listener-42")
    assert len(commitment) == 32 and len(salt) == 32
    assert verify_commitment(commitment, b"listener-42", salt)
    assert not verify_commitment(commitment, b"listener-43", salt)
    assert not verify_commitment(commitment, b"listener-42", new_salt())
    assert not verify_commitment(commitment, b"listener-42", salt[:31])
    assert not verify_commitment(commitment[:31], b"listener-42", salt)


def test_fresh_salts_hide_equal_values():
    assert commit(b"same")[0] != commit(b"same")[0]


def test_a_salt_or_value_of_the_wrong_shape_is_refused():
    with pytest.raises(CommitmentError, match="32 bytes, got 16"):
        make_commitment(bytes(16), b"x")
    with pytest.raises(CommitmentError, match="bytes, got str"):
        make_commitment(bytes(32), "listener")  # type: ignore[arg-type]
