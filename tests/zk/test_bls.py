"""qfzz_chain.zk.bls: the ciphersuite's algorithms, their refusals and the encodings, on the default
backend (the native one when installed; tests/zk/test_bls_backends.py holds it to py-ecc)."""

from __future__ import annotations

import pytest
from py_ecc import optimized_bls12_381 as curve
from py_ecc.bls import G2ProofOfPossession
from py_ecc.bls.g2_primitives import G1_to_pubkey, G2_to_signature, signature_to_G2

from qfzz_chain.errors import QfzzError
from qfzz_chain.zk import bls
from qfzz_chain.zk.bls_backends import CURVE_ORDER, available_backends
from qfzz_chain.zk.errors import (
    InvalidPointError,
    InvalidPublicKeyError,
    InvalidSecretKeyError,
    InvalidSignatureError,
    ZkError,
)
from tests.zk.points import G1_INFINITY, G2_INFINITY, P, fp, g1_outside_subgroup, g2_encoding, g2_outside_subgroup

MESSAGE = b"epoch 7 root"


# ---- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ikm", [bytes(32), bytes(range(32)), b"\xff" * 64])
def test_keygen_is_the_drafts_and_py_eccs(ikm):
    assert bls.keygen(ikm) == G2ProofOfPossession.KeyGen(ikm)
    assert bls.keygen(ikm, b"node 3") == G2ProofOfPossession.KeyGen(ikm, b"node 3") != bls.keygen(ikm)


def test_keygen_refuses_short_key_material():
    with pytest.raises(InvalidSecretKeyError, match="31 bytes"):
        bls.keygen(bytes(31))


def test_secret_keys_serialize_as_32_bytes_and_refuse_out_of_range_values():
    secret = bls.keygen(bytes(range(32)))
    assert bls.secret_key_from_bytes(bls.secret_key_to_bytes(secret)) == secret
    for bad in (bytes(32), CURVE_ORDER.to_bytes(32, "big"), b"\xff" * 32):
        with pytest.raises(InvalidSecretKeyError):
            bls.secret_key_from_bytes(bad)
    with pytest.raises(InvalidSecretKeyError, match="32 bytes"):
        bls.secret_key_from_bytes(bytes(31))
    for bad in (0, -1, CURVE_ORDER, True, 1.5):
        with pytest.raises(InvalidSecretKeyError):
            bls.sign(bad, MESSAGE)  # type: ignore[arg-type]


def test_errors_are_qfzz_errors():
    assert issubclass(InvalidPublicKeyError, InvalidPointError)
    assert issubclass(InvalidSignatureError, InvalidPointError)
    assert issubclass(ZkError, QfzzError)


# ---- sign and verify ---------------------------------------------------------------------------


def test_sign_verify_round_trip_and_sizes(committee, scheme):
    secret, public, _ = committee[0]
    signature = scheme.sign(secret, MESSAGE)
    assert len(public) == 96 and len(signature) == 48
    assert scheme.verify(public, MESSAGE, signature)
    assert bls.verify(public, MESSAGE, signature)  # the module-level function, default scheme


def test_signing_is_deterministic(committee, scheme):
    secret, _, _ = committee[0]
    assert scheme.sign(secret, MESSAGE) == scheme.sign(secret, MESSAGE)


def test_wrong_message_key_or_tampered_signature_fail(committee, scheme):
    secret, public, _ = committee[0]
    signature = scheme.sign(secret, MESSAGE)
    assert not scheme.verify(public, MESSAGE + b"!", signature)
    assert not scheme.verify(committee[1][1], MESSAGE, signature)
    assert not scheme.verify(public, MESSAGE, scheme.sign(committee[1][0], MESSAGE))
    flipped = bytearray(signature)
    flipped[-1] ^= 1  # another x: usually not on the curve, else another point
    assert not scheme.verify(public, MESSAGE, bytes(flipped))


def test_verify_is_false_for_anything_that_does_not_decode(committee, scheme):
    secret, public, _ = committee[0]
    signature = scheme.sign(secret, MESSAGE)
    infinity_key = bytes([0xC0]) + bytes(95)
    for bad_key in (public[:-1], public + b"\x00", infinity_key, bytes(96), _compressed_g2(g2_outside_subgroup())):
        assert not scheme.verify(bad_key, MESSAGE, signature)
    for bad_signature in (signature[:-1], bytes(48), _compressed_g1(g1_outside_subgroup())):
        assert not scheme.verify(public, MESSAGE, bad_signature)
    # a signature at infinity decodes but verifies against no key
    assert not scheme.verify(public, MESSAGE, bytes([0xC0]) + bytes(47))


# ---- aggregation -------------------------------------------------------------------------------


def test_sixteen_signatures_aggregate_and_fast_aggregate_verify(committee, scheme):
    publics = [public for _, public, _ in committee]
    signatures = [scheme.sign(secret, MESSAGE) for secret, _, _ in committee]
    aggregate = scheme.aggregate_signatures(signatures)
    assert scheme.fast_aggregate_verify(publics, MESSAGE, aggregate)
    assert scheme.verify(scheme.aggregate_public_keys(publics), MESSAGE, aggregate)
    # order does not matter; a missing signer or a missing key does
    assert scheme.aggregate_signatures(reversed(signatures)) == aggregate
    assert not scheme.fast_aggregate_verify(publics, MESSAGE, scheme.aggregate_signatures(signatures[1:]))
    assert not scheme.fast_aggregate_verify(publics[1:], MESSAGE, aggregate)
    assert not scheme.fast_aggregate_verify(publics, MESSAGE + b"!", aggregate)
    assert not scheme.fast_aggregate_verify([], MESSAGE, aggregate)


def test_aggregating_nothing_or_keys_summing_to_infinity_is_refused(committee, scheme):
    with pytest.raises(InvalidSignatureError, match="empty"):
        scheme.aggregate_signatures([])
    with pytest.raises(InvalidPublicKeyError, match="empty"):
        scheme.aggregate_public_keys([])
    public = committee[0][1]
    negated = bls.public_key_from_eip2537(g2_encoding(curve.neg(signature_to_G2(public))))
    with pytest.raises(InvalidPublicKeyError, match="infinity"):
        scheme.aggregate_public_keys([public, negated])
    assert not scheme.fast_aggregate_verify([public, negated], MESSAGE, bytes([0xC0]) + bytes(47))
    with pytest.raises(InvalidSignatureError):
        scheme.aggregate_signatures([bytes(48)])


# ---- proof of possession and the rogue-key attack ----------------------------------------------------


def test_proof_of_possession_round_trip_and_domain_separation(committee, scheme):
    secret, public, proof = committee[0]
    assert scheme.verify_possession(public, proof)
    assert not scheme.verify_possession(committee[1][1], proof)
    # the same key bytes signed under the signature DST are not a proof, and vice versa
    assert not scheme.verify_possession(public, scheme.sign(secret, bytes(public)))
    assert not scheme.verify(public, bytes(public), proof)
    assert proof == G1_to_pubkey(curve.multiply(_py_ecc_hash(bytes(public), bls.POP_DST), secret))


def test_rogue_key_attack_passes_without_pop_and_fails_with_it(committee, scheme):
    """The attacker publishes pk_r = sk_a·G2 − pk_h; the aggregate pk_h + pk_r = sk_a·G2 lets it
    forge the honest member's agreement alone. Possession of pk_r's key cannot be proved."""
    honest = committee[5][1]
    attacker = bls.keygen(b"attacker key material, 32 bytes!")
    rogue = bls.public_key_from_eip2537(
        g2_encoding(curve.add(curve.multiply(curve.G2, attacker), curve.neg(signature_to_G2(honest))))
    )
    forged = scheme.sign(attacker, MESSAGE)
    assert scheme.fast_aggregate_verify([honest, rogue], MESSAGE, forged)  # the attack, without PoP
    for attempt in (scheme.prove_possession(attacker), forged, scheme.sign(attacker, bytes(rogue))):
        assert not scheme.verify_possession(rogue, attempt)


# ---- encodings ---------------------------------------------------------------------------------


def test_eip2537_encodings_round_trip(committee, scheme):
    secret, public, _ = committee[0]
    signature = scheme.sign(secret, MESSAGE)
    uncompressed_key, uncompressed_signature = scheme.to_eip2537(public), scheme.to_eip2537(signature)
    assert len(uncompressed_key) == 256 and len(uncompressed_signature) == 128
    assert uncompressed_key == g2_encoding(signature_to_G2(public))
    assert scheme.public_key_from_eip2537(uncompressed_key) == public
    assert scheme.signature_from_eip2537(uncompressed_signature) == signature
    assert scheme.to_eip2537(bytes([0xC0]) + bytes(47)) == G1_INFINITY
    assert scheme.signature_from_eip2537(G1_INFINITY) == bytes([0xC0]) + bytes(47)


def test_eip2537_decoding_refuses_every_invalid_point(committee, scheme):
    key = scheme.to_eip2537(committee[0][1])
    cases = {
        "infinity": (G2_INFINITY, "infinity"),
        "outside G2": (g2_outside_subgroup(), "subgroup"),
        "off the twist": (fp(1) + fp(0) + fp(1) + fp(0), "curve|twist|subgroup"),
        "x.c0 not reduced": (fp(int.from_bytes(key[:64], "big") + P) + key[64:], "modulus"),
        "padding not zero": (b"\x01" + key[1:], "top 16 bytes"),
        "short": (key[:-1], "256 bytes"),
    }
    for name, (data, message) in cases.items():
        with pytest.raises(InvalidPublicKeyError, match=message):
            scheme.public_key_from_eip2537(data)
    signature = scheme.to_eip2537(scheme.sign(committee[0][0], MESSAGE))
    for data, message in ((g1_outside_subgroup(), "subgroup"), (fp(1) + fp(1), "curve"),
                          (signature[:64] + fp(P), "modulus"), (signature + b"\x00", "128 bytes")):  # fmt: skip
        with pytest.raises(InvalidSignatureError, match=message):
            scheme.signature_from_eip2537(data)
    with pytest.raises(InvalidPointError, match="48 .* or 96"):
        scheme.to_eip2537(b"\x00" * 64)


def test_compressed_decoding_refuses_bad_flags_and_points(committee):
    public = committee[0][1]
    with pytest.raises(InvalidPublicKeyError):
        bls.public_key_from_bytes(bytes([public[0] & 0x7F]) + public[1:])  # compression flag cleared
    with pytest.raises(InvalidPublicKeyError, match="infinity"):
        bls.public_key_from_bytes(bytes([0xC0]) + bytes(95))
    with pytest.raises(InvalidPublicKeyError):
        bls.public_key_from_bytes(_compressed_g2(g2_outside_subgroup()))
    with pytest.raises(InvalidSignatureError):
        bls.signature_from_bytes(_compressed_g1(g1_outside_subgroup()))
    with pytest.raises(InvalidSignatureError):
        bls.signature_from_bytes(bytes([0xE0]) + bytes(47))  # infinity with the sign flag
    assert bls.public_key_from_bytes(public) == public


def test_hash_to_g1_is_the_eip2537_point_of_the_rfc_hash():
    expected = _py_ecc_hash(MESSAGE, bls.SIGNATURE_DST)
    x, y = curve.normalize(expected)
    assert bls.hash_to_g1(MESSAGE) == fp(int(x)) + fp(int(y))


# ---- backend selection ----------------------------------------------------------------------------


def test_the_default_backend_is_the_fastest_installed_and_can_be_forced(monkeypatch):
    assert bls.default_scheme().backend.name == available_backends()[0]
    monkeypatch.setenv("QFZZ_BLS_BACKEND", "py_ecc")
    assert bls.default_scheme().backend.name == "py_ecc"
    monkeypatch.setenv("QFZZ_BLS_BACKEND", "blst")
    with pytest.raises(ZkError, match="unknown BLS backend 'blst'"):
        bls.default_scheme()


# ---- helpers -------------------------------------------------------------------------------------


def _py_ecc_hash(message: bytes, dst: bytes):
    import hashlib

    from py_ecc.bls.hash_to_curve import hash_to_G1

    return hash_to_G1(message, dst, hashlib.sha256)


def _compressed_g1(encoding: bytes) -> bytes:
    from tests.zk.points import g1_point

    return G1_to_pubkey(g1_point(encoding))  # compression checks the curve, not the subgroup


def _compressed_g2(encoding: bytes) -> bytes:
    from tests.zk.points import g2_point

    return G2_to_signature(g2_point(encoding))
