"""The native backend agrees with py-ecc, the reference, byte for byte: keys, signatures,
proofs of possession, aggregates, hash-to-curve, EIP-2537 encodings, verification results, and
the refusal of every malformed encoding. py-ecc is slow (~0.1 s a signature, more for a G2
subgroup check), so the samples are small and fixed."""

from __future__ import annotations

import pytest
from py_ecc import optimized_bls12_381 as curve
from py_ecc.bls.g2_primitives import G1_to_pubkey, G2_to_signature

from qfzz_chain.zk import bls
from qfzz_chain.zk.bls_backends import available_backends
from qfzz_chain.zk.errors import InvalidPointError
from tests.zk.points import P, g1_outside_subgroup, g1_point, g2_outside_subgroup, g2_point

pytestmark = pytest.mark.skipif("arkworks" not in available_backends(), reason="py-arkworks-bls12381 not installed")

SEEDS = [bytes([i]) * 32 for i in (1, 2, 3)]
MESSAGES = [b"", b"abc", bytes(range(32)), b"m" * 300]


@pytest.fixture(scope="module")
def reference() -> bls.BlsScheme:
    return bls.scheme_for("py_ecc")


@pytest.fixture(scope="module")
def native() -> bls.BlsScheme:
    return bls.scheme_for("arkworks")


@pytest.fixture(scope="module")
def keys(reference, native):
    """(secret, public) per seed, checking both backends derive the same public key and PoP."""
    pairs = []
    for seed in SEEDS:
        secret = bls.keygen(seed)
        public = native.public_key(secret)
        assert reference.public_key(secret) == public
        assert reference.prove_possession(secret) == native.prove_possession(secret)
        pairs.append((secret, public))
    return pairs


def test_signatures_and_their_eip2537_encodings_agree(keys, reference, native):
    for (secret, public), message in zip(keys, MESSAGES):
        signature = native.sign(secret, message)
        assert reference.sign(secret, message) == signature
        assert reference.to_eip2537(signature) == native.to_eip2537(signature)
        assert reference.to_eip2537(public) == native.to_eip2537(public)


def test_verification_results_agree(keys, reference, native):
    (secret, public), (_, other) = keys[0], keys[1]
    signature = native.sign(secret, b"abc")
    for key, message, expected in ((public, b"abc", True), (other, b"abc", False), (public, b"abd", False)):
        assert reference.verify(key, message, signature) is expected
        assert native.verify(key, message, signature) is expected


def test_aggregates_agree(keys, reference, native):
    publics = [public for _, public in keys]
    signatures = [native.sign(secret, b"root") for secret, _ in keys]
    aggregate = native.aggregate_signatures(signatures)
    assert reference.aggregate_signatures(signatures) == aggregate
    assert reference.aggregate_public_keys(publics) == native.aggregate_public_keys(publics)
    assert reference.fast_aggregate_verify(publics, b"root", aggregate)
    assert native.fast_aggregate_verify(publics, b"root", aggregate)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: repr(m[:6]))
@pytest.mark.parametrize("dst", [bls.SIGNATURE_DST, bls.POP_DST, b"x", b"D" * 256],
                         ids=["sig", "pop", "short", "oversize"])  # fmt: skip
def test_hash_to_g1_agrees(reference, native, message, dst):
    assert reference.hash_to_g1(message, dst) == native.hash_to_g1(message, dst)


def _malformed_g1() -> dict[str, bytes]:
    generator = G1_to_pubkey(curve.G1)
    x_not_on_curve = next(x for x in range(1, 100) if pow((x**3 + 4) % P, (P - 1) // 2, P) != 1)
    return {
        "no compression flag": bytes([generator[0] & 0x7F]) + generator[1:],
        "infinity with x": bytes([0xC0]) + generator[1:],
        "infinity with sign": bytes([0xE0]) + bytes(47),
        "x not reduced": (P | (1 << 383)).to_bytes(48, "big"),
        "x not on the curve": (x_not_on_curve | (1 << 383)).to_bytes(48, "big"),
        "outside the subgroup": G1_to_pubkey(g1_point(g1_outside_subgroup())),
        "47 bytes": generator[:47],
    }


def _malformed_g2() -> dict[str, bytes]:
    generator = G2_to_signature(curve.G2)
    return {
        "no compression flag": bytes([generator[0] & 0x7F]) + generator[1:],
        "infinity with x": bytes([0xC0]) + generator[1:],
        "x.c1 not reduced": (P | (1 << 383)).to_bytes(48, "big") + generator[48:],
        "x.c0 not reduced": generator[:48] + P.to_bytes(48, "big"),
        "outside the subgroup": G2_to_signature(g2_point(g2_outside_subgroup())),
        "95 bytes": generator[:95],
    }


@pytest.mark.parametrize("name", list(_malformed_g1()))
def test_both_backends_refuse_the_same_malformed_signatures(reference, native, name):
    data = _malformed_g1()[name]
    for scheme in (reference, native):
        with pytest.raises(InvalidPointError):
            scheme.signature_point(data)


@pytest.mark.parametrize("name", list(_malformed_g2()))
def test_both_backends_refuse_the_same_malformed_public_keys(reference, native, name):
    data = _malformed_g2()[name]
    for scheme in (reference, native):
        with pytest.raises(InvalidPointError):
            scheme.public_key_point(data)
