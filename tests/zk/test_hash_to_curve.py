"""RFC 9380 test vectors for BLS12381G1_XMD:SHA-256_SSWU_RO_ (Appendix J.9.1) and
expand_message_xmd with SHA-256 (Appendix K.1, and K.2's oversize DST), checked in Python (our
code, py-ecc's and each backend's) and on-chain through BLS12381Harness."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py_ecc import optimized_bls12_381 as curve
from py_ecc.bls.hash import expand_message_xmd as py_ecc_expand_message_xmd
from py_ecc.bls.hash_to_curve import clear_cofactor_G1, map_to_curve_G1

from qfzz_chain.zk import bls
from qfzz_chain.zk.bls_backends import available_backends
from qfzz_chain.zk.errors import ZkError
from tests.contracts.helpers import reverts_with
from tests.zk.points import fp, g1_encoding
from tests.zk.vectors import J91, J91_DST, K1, K1_DST, K2, K2_DST


def affine(point) -> tuple[int, int]:
    x, y = curve.normalize(point)
    return int(x), int(y)


def p_encoding(vector) -> bytes:
    return fp(vector.p[0]) + fp(vector.p[1])


# ---- Python -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "length", "uniform"), K1, ids=lambda v: repr(v)[:12])
def test_expand_message_xmd_matches_rfc_k1(message, length, uniform):
    assert bls.expand_message_xmd(message, K1_DST, length).hex() == uniform
    assert py_ecc_expand_message_xmd(message, K1_DST, length, hashlib.sha256).hex() == uniform


@pytest.mark.parametrize(("message", "length", "uniform"), K2, ids=lambda v: repr(v)[:12])
def test_expand_message_xmd_shortens_an_oversize_dst_as_rfc_k2(message, length, uniform):
    assert len(K2_DST) > 255
    assert bls.expand_message_xmd(message, K2_DST, length).hex() == uniform


def test_expand_message_xmd_refuses_more_than_255_blocks():
    assert len(bls.expand_message_xmd(b"", K1_DST, 8160)) == 8160
    with pytest.raises(ZkError, match="8161"):
        bls.expand_message_xmd(b"", K1_DST, 8161)


@pytest.mark.parametrize("vector", J91, ids=lambda v: repr(v.msg[:8]))
def test_hash_to_field_and_map_to_curve_match_rfc_j91(vector):
    assert bls.hash_to_field_g1(vector.msg, J91_DST) == (vector.u0, vector.u1)
    q0, q1 = map_to_curve_G1(curve.FQ(vector.u0)), map_to_curve_G1(curve.FQ(vector.u1))
    assert affine(q0) == vector.q0
    assert affine(q1) == vector.q1
    assert affine(clear_cofactor_G1(curve.add(q0, q1))) == vector.p


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("vector", J91, ids=lambda v: repr(v.msg[:8]))
def test_every_backend_hashes_to_the_rfc_point(backend, vector):
    assert bls.scheme_for(backend).hash_to_g1(vector.msg, J91_DST) == p_encoding(vector)


# ---- on-chain -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "length", "uniform"), K1 + K2, ids=lambda v: repr(v)[:12])
def test_on_chain_expand_message_xmd_matches_rfc_k1_and_k2(harness, message, length, uniform):
    dst = K1_DST if (message, length, uniform) in K1 else K2_DST
    assert bytes(harness.expandMessageXmd(message, dst, length)).hex() == uniform


def test_on_chain_expand_message_xmd_lengths_not_a_multiple_of_32(harness):
    for length in (0, 1, 31, 33, 100, 255, 8160):
        assert bytes(harness.expandMessageXmd(b"abc", K1_DST, length)) == bls.expand_message_xmd(b"abc", K1_DST, length)


def test_on_chain_expand_message_xmd_refuses_more_than_255_blocks(harness):
    with reverts_with("InvalidExpandLength", 8161):
        harness.expandMessageXmd(b"", K1_DST, 8161)
    with reverts_with("InvalidExpandLength", 2**256 - 1):
        harness.expandMessageXmd(b"", K1_DST, 2**256 - 1)


@pytest.mark.parametrize("vector", J91, ids=lambda v: repr(v.msg[:8]))
def test_on_chain_hash_to_field_and_curve_match_rfc_j91(harness, vector):
    assert bytes(harness.hashToField(vector.msg, J91_DST)) == fp(vector.u0) + fp(vector.u1)
    assert bytes(harness.hashToG1(vector.msg, J91_DST)) == p_encoding(vector)
    # MAP_FP_TO_G1 is clear_cofactor(map_to_curve(u)): per element, the RFC's Q0 and Q1 cleared
    mapped = [bytes(harness.mapFpToG1(fp(u))) for u in (vector.u0, vector.u1)]
    for got, q in zip(mapped, (vector.q0, vector.q1)):
        q_point = (curve.FQ(q[0]), curve.FQ(q[1]), curve.FQ.one())
        assert got == g1_encoding(clear_cofactor_G1(q_point))
    assert bytes(harness.g1Add(*mapped)) == p_encoding(vector)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(message=st.binary(max_size=300), dst=st.binary(min_size=1, max_size=300))
def test_on_chain_hash_to_g1_equals_python_for_any_message_and_dst(harness, message, dst):
    assert bytes(harness.hashToG1(message, dst)) == bls.hash_to_g1(message, dst)
