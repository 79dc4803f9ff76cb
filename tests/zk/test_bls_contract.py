"""contracts/lib/BLS12381.sol on anvil (EIP-2537), through BLS12381Harness: signatures made in
Python verify on-chain, every refusal is the named error with its evidence, and the gas of
hashToG1 and verify is pinned."""

from __future__ import annotations

import pytest
from py_ecc import optimized_bls12_381 as curve

from qfzz_chain.zk import bls
from tests.contracts.helpers import reverts_with
from tests.zk.points import (
    G1_INFINITY,
    G2_INFINITY,
    P,
    compressed_g2_reference,
    fp,
    g1_encoding,
    g1_off_curve,
    g1_outside_subgroup,
    g2_encoding,
    g2_off_curve,
    g2_outside_subgroup,
)

G1ADD, G2ADD, PAIRING, MAP = (f"0x{n:040x}" for n in (0x0B, 0x0D, 0x0F, 0x10))
MESSAGE = bytes(range(32))  # a 32-byte message, the size of the anchor's digest

# Gas of the library call alone, from these fixed inputs (BLS12381Harness measures it with
# gasleft()). A change here is a change in cost: update benchmarks/results and docs/zk.md with it.
HASH_TO_G1_GAS = 15_461
VERIFY_GAS = 119_420
VERIFY_POSSESSION_GAS = 120_684
G2_ADD_GAS = 1_142


def eip(point: bytes) -> bytes:
    return bls.to_eip2537(point)


@pytest.fixture(scope="module")
def signed(committee, scheme):
    """Member 0's key and signature of MESSAGE, EIP-2537 encoded."""
    secret, public, _ = committee[0]
    return eip(scheme.sign(secret, MESSAGE)), eip(public)


# ---- constants ---------------------------------------------------------------------------------


def test_domain_separation_tags_and_negated_generator_are_the_ciphersuites(harness):
    assert bytes(harness.signatureDst()) == bls.SIGNATURE_DST == b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"
    assert bytes(harness.popDst()) == bls.POP_DST == b"BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"
    assert bytes(harness.negG2Generator()) == g2_encoding(curve.neg(curve.G2))


# ---- verify ------------------------------------------------------------------------------------


def test_a_python_signature_verifies_on_chain(harness, signed):
    signature, public = signed
    assert harness.verify(signature, public, MESSAGE, bls.SIGNATURE_DST) is True
    assert harness.verifySignature(signature, public, MESSAGE) is True


def test_wrong_message_wrong_key_tampered_signature_or_wrong_dst_fail(harness, committee, scheme, signed):
    signature, public = signed
    other_public = eip(committee[1][1])
    other_signature = eip(scheme.sign(committee[0][0], MESSAGE[:-1] + b"\x00"))
    assert harness.verifySignature(signature, public, MESSAGE[:-1] + b"\x00") is False
    assert harness.verifySignature(signature, other_public, MESSAGE) is False
    assert harness.verifySignature(other_signature, public, MESSAGE) is False
    assert harness.verify(signature, public, MESSAGE, bls.POP_DST) is False


def test_a_signature_of_any_length_message_verifies(harness, committee, scheme):
    secret, public, _ = committee[2]
    for message in (b"", b"x", bytes(range(256)) * 3):
        assert harness.verifySignature(eip(scheme.sign(secret, message)), eip(public), message) is True


def test_a_public_key_at_infinity_is_refused_even_with_the_signature_at_infinity(harness):
    # e(O, −G2) · e(H(m), O) = 1 for every message: the pairing alone would accept it
    h = bytes(harness.hashToG1(MESSAGE, bls.SIGNATURE_DST))
    assert harness.pairingCheck2(G1_INFINITY, g2_encoding(curve.neg(curve.G2)), h, G2_INFINITY) is True
    assert harness.verifySignature(G1_INFINITY, G2_INFINITY, MESSAGE) is False


def test_a_signature_at_infinity_fails_against_a_real_key(harness, signed):
    assert harness.verifySignature(G1_INFINITY, signed[1], MESSAGE) is False


def test_points_outside_their_subgroup_revert_in_the_pairing(harness, signed):
    signature, public = signed
    with reverts_with("PrecompileFailed", PAIRING):
        harness.verifySignature(g1_outside_subgroup(), public, MESSAGE)
    with reverts_with("PrecompileFailed", PAIRING):
        harness.verifySignature(signature, g2_outside_subgroup(), MESSAGE)
    with reverts_with("PrecompileFailed", PAIRING):
        harness.verifySignature(g1_off_curve(), public, MESSAGE)
    with reverts_with("PrecompileFailed", PAIRING):
        harness.verifySignature(signature, g2_off_curve(), MESSAGE)


def test_verify_refuses_short_or_long_points(harness, signed):
    signature, public = signed
    with reverts_with("InvalidPointLength", 127, 128):
        harness.verifySignature(signature[:-1], public, MESSAGE)
    with reverts_with("InvalidPointLength", 48, 128):
        harness.verifySignature(signature[:48], public, MESSAGE)
    with reverts_with("InvalidPointLength", 257, 256):
        harness.verifySignature(signature, public + b"\x00", MESSAGE)
    with reverts_with("InvalidPointLength", 96, 256):
        harness.verifySignature(signature, public[:96], MESSAGE)


def test_an_unreduced_coordinate_reverts_in_the_pairing(harness, signed):
    signature, public = signed
    x = int.from_bytes(signature[:64], "big")
    with reverts_with("PrecompileFailed", PAIRING):
        harness.verifySignature(fp(x + P) + signature[64:], public, MESSAGE)


# ---- aggregation: 16 signers, one pairing ------------------------------------------------------


def test_sixteen_signatures_aggregate_on_chain_as_in_python(harness, committee, scheme):
    signatures = [scheme.sign(secret, MESSAGE) for secret, _, _ in committee]
    publics = [public for _, public, _ in committee]
    aggregate_key = eip(publics[0])
    aggregate_signature = eip(signatures[0])
    for public, signature in zip(publics[1:], signatures[1:]):
        aggregate_key = bytes(harness.g2Add(aggregate_key, eip(public)))
        aggregate_signature = bytes(harness.g1Add(aggregate_signature, eip(signature)))
    assert aggregate_key == eip(scheme.aggregate_public_keys(publics))
    assert aggregate_signature == eip(scheme.aggregate_signatures(signatures))
    assert harness.verifySignature(aggregate_signature, aggregate_key, MESSAGE) is True
    # one signer missing from the signature but not from the key: refused
    partial = eip(scheme.aggregate_signatures(signatures[1:]))
    assert harness.verifySignature(partial, aggregate_key, MESSAGE) is False


def test_rogue_key_passes_aggregate_verify_but_not_proof_of_possession(harness, committee, scheme):
    """The attack PoP exists for: the attacker publishes pk_r = sk_a·G2 − pk_h, so the aggregate
    pk_h + pk_r = sk_a·G2 and the attacker alone signs for both. It cannot prove possession of
    pk_r's secret key (it does not know one), so a PoP-checking registry never admits pk_r."""
    _, honest, _ = committee[3]
    attacker = bls.keygen(b"attacker" * 4)
    rogue_point = curve.add(curve.multiply(curve.G2, attacker), curve.neg(scheme_point(honest)))
    rogue = bls.public_key_from_eip2537(g2_encoding(rogue_point))
    forged = scheme.sign(attacker, MESSAGE)

    aggregate = bytes(harness.g2Add(eip(honest), eip(rogue)))
    assert harness.verifySignature(eip(forged), aggregate, MESSAGE) is True  # without PoP: forged
    assert scheme.fast_aggregate_verify([honest, rogue], MESSAGE, forged) is True

    # what the attacker can offer as a proof for pk_r: its own key's proof, or a proof-shaped guess
    for attempt in (scheme.prove_possession(attacker), forged, scheme.sign(attacker, bytes(rogue))):
        assert harness.verifyPossession(eip(rogue), eip(attempt)) is False
        assert scheme.verify_possession(rogue, attempt) is False


def scheme_point(public: bls.PublicKey):
    """py-ecc point of a compressed G2 key."""
    from py_ecc.bls.g2_primitives import signature_to_G2

    return signature_to_G2(public)


# ---- proof of possession -----------------------------------------------------------------------


def test_proofs_of_possession_verify_on_chain_for_every_member(harness, committee):
    for _, public, proof in committee[:4]:
        assert harness.verifyPossession(eip(public), eip(proof)) is True


def test_a_proof_for_another_key_or_a_plain_signature_of_the_key_fails(harness, committee, scheme):
    secret, public, proof = committee[0]
    assert harness.verifyPossession(eip(committee[1][1]), eip(proof)) is False
    # a signature of the same bytes under the signature DST is not a proof (domain separation)
    assert harness.verifyPossession(eip(public), eip(scheme.sign(secret, bytes(public)))) is False


def test_proof_of_possession_refuses_infinity_and_bad_lengths(harness, committee):
    _, public, proof = committee[0]
    assert harness.verifyPossession(G2_INFINITY, eip(proof)) is False
    with reverts_with("InvalidPointLength", 96, 256):
        harness.verifyPossession(bytes(public), eip(proof))
    with reverts_with("InvalidPointLength", 48, 128):
        harness.verifyPossession(eip(public), bytes(proof))
    with reverts_with("PrecompileFailed", PAIRING):
        harness.verifyPossession(g2_outside_subgroup(), eip(proof))


def test_proof_of_possession_refuses_an_unreduced_key(harness, committee):
    _, public, proof = committee[0]
    key = eip(public)
    y0 = int.from_bytes(key[128:192], "big")
    bad = key[:128] + fp(y0 + P) + key[192:]
    with reverts_with("FieldElementNotReduced", (y0 + P) >> 256, (y0 + P) % 2**256):
        harness.verifyPossession(bad, eip(proof))


# ---- compression and negation ------------------------------------------------------------------


def test_on_chain_compression_is_the_keys_serialization(harness, committee):
    flags = set()
    for _, public, _ in committee:
        compressed = bytes(harness.g2Compress(eip(public)))
        assert compressed == bytes(public)
        flags.add(compressed[0] & 0x20)
    assert flags == {0, 0x20}, "both signs of y are covered"
    assert bytes(harness.g2Compress(G2_INFINITY)) == bytes([0xC0]) + bytes(95)


def test_compression_sign_falls_back_to_y_c0_when_y_c1_is_zero(harness):
    # raw coordinates (not curve points: compression is arithmetic on the encoding)
    for y0 in (1, (P - 1) // 2, (P + 1) // 2, P - 1):
        raw = fp(5) + fp(7) + fp(y0) + fp(0)
        assert bytes(harness.g2Compress(raw)) == compressed_g2_reference(raw)
    for y1 in (1, (P - 1) // 2, (P + 1) // 2, P - 1):
        raw = fp(5) + fp(7) + fp(P - 1) + fp(y1)
        assert bytes(harness.g2Compress(raw)) == compressed_g2_reference(raw)


def test_compression_refuses_unreduced_coordinates_and_bad_lengths(harness, committee):
    key = eip(committee[0][1])
    for offset in (0, 64, 128, 192):
        value = int.from_bytes(key[offset : offset + 64], "big") + P
        bad = key[:offset] + fp(value) + key[offset + 64 :]
        with reverts_with("FieldElementNotReduced", value >> 256, value % 2**256):
            harness.g2Compress(bad)
    with reverts_with("InvalidPointLength", 255, 256):
        harness.g2Compress(key[:-1])


def test_negation_matches_py_ecc_and_keeps_infinity(harness, committee):
    assert bytes(harness.g2Negate(g2_encoding(curve.G2))) == bytes(harness.negG2Generator())
    for _, public, _ in committee[:3]:
        assert bytes(harness.g2Negate(eip(public))) == g2_encoding(curve.neg(scheme_point(public)))
    assert bytes(harness.g2Negate(G2_INFINITY)) == G2_INFINITY
    # a zero coordinate stays zero (not p); the other is negated
    raw = fp(3) + fp(4) + fp(0) + fp(9)
    assert bytes(harness.g2Negate(raw)) == fp(3) + fp(4) + fp(0) + fp(P - 9)


def test_negation_refuses_unreduced_y_and_bad_lengths(harness):
    for y in (P, P + 1, 2**384):
        for position in (128, 192):
            raw = bytearray(fp(1) + fp(2) + fp(3) + fp(4))
            raw[position : position + 64] = y.to_bytes(64, "big")
            with reverts_with("FieldElementNotReduced", y >> 256, y % 2**256):
                harness.g2Negate(bytes(raw))
    with reverts_with("InvalidPointLength", 128, 256):
        harness.g2Negate(G1_INFINITY)


# ---- group operations ----------------------------------------------------------------------------


def test_additions_match_py_ecc(harness):
    a, b = curve.multiply(curve.G1, 12345), curve.multiply(curve.G1, 67890)
    assert bytes(harness.g1Add(g1_encoding(a), g1_encoding(b))) == g1_encoding(curve.add(a, b))
    assert bytes(harness.g1Add(g1_encoding(a), G1_INFINITY)) == g1_encoding(a)
    assert bytes(harness.g1Add(g1_encoding(a), g1_encoding(curve.neg(a)))) == G1_INFINITY
    c, d = curve.multiply(curve.G2, 5), curve.multiply(curve.G2, 7)
    assert bytes(harness.g2Add(g2_encoding(c), g2_encoding(d))) == g2_encoding(curve.multiply(curve.G2, 12))


def test_additions_do_not_check_the_subgroup_but_do_check_the_curve(harness):
    # documented: G1ADD/G2ADD accept curve points outside the subgroup; the pairing refuses them
    assert len(harness.g1Add(g1_outside_subgroup(), G1_INFINITY)) == 128
    assert len(harness.g2Add(g2_outside_subgroup(), G2_INFINITY)) == 256
    with reverts_with("PrecompileFailed", G1ADD):
        harness.g1Add(g1_off_curve(), G1_INFINITY)
    with reverts_with("PrecompileFailed", G2ADD):
        harness.g2Add(G2_INFINITY, g2_off_curve())


def test_additions_refuse_bad_lengths(harness):
    with reverts_with("InvalidPointLength", 127, 128):
        harness.g1Add(G1_INFINITY[:-1], G1_INFINITY)
    with reverts_with("InvalidPointLength", 129, 128):
        harness.g1Add(G1_INFINITY, G1_INFINITY + b"\x00")
    with reverts_with("InvalidPointLength", 128, 256):
        harness.g2Add(G1_INFINITY, G2_INFINITY)
    with reverts_with("InvalidPointLength", 0, 256):
        harness.g2Add(G2_INFINITY, b"")


def test_pairing_check_of_two_pairs(harness):
    a = curve.multiply(curve.G1, 6)
    b = curve.multiply(curve.G2, 7)
    # e(6·G1, 7·G2) · e(−42·G1, G2) = 1
    assert harness.pairingCheck2(g1_encoding(a), g2_encoding(b), g1_encoding(curve.neg(curve.multiply(curve.G1, 42))),
                                 g2_encoding(curve.G2)) is True  # fmt: skip
    assert harness.pairingCheck2(g1_encoding(a), g2_encoding(b), g1_encoding(curve.neg(curve.multiply(curve.G1, 41))),
                                 g2_encoding(curve.G2)) is False  # fmt: skip


def test_pairing_check_refuses_each_bad_argument(harness):
    g1, g2 = g1_encoding(curve.G1), g2_encoding(curve.G2)
    with reverts_with("InvalidPointLength", 127, 128):
        harness.pairingCheck2(g1[:-1], g2, g1, g2)
    with reverts_with("InvalidPointLength", 255, 256):
        harness.pairingCheck2(g1, g2[:-1], g1, g2)
    with reverts_with("InvalidPointLength", 129, 128):
        harness.pairingCheck2(g1, g2, g1 + b"\x00", g2)
    with reverts_with("InvalidPointLength", 0, 256):
        harness.pairingCheck2(g1, g2, g1, b"")
    with reverts_with("PrecompileFailed", PAIRING):
        harness.pairingCheck2(g1_outside_subgroup(), g2, g1, g2)


def test_map_to_g1_refuses_an_unreduced_element_and_bad_lengths(harness):
    with reverts_with("PrecompileFailed", MAP):
        harness.mapFpToG1(fp(P))
    with reverts_with("InvalidPointLength", 63, 64):
        harness.mapFpToG1(fp(1)[1:])


# ---- gas ---------------------------------------------------------------------------------------


def test_gas_of_hash_to_g1_and_verify_is_pinned(harness, committee, scheme, signed):
    signature, public = signed
    assert harness.hashToG1Gas(MESSAGE, bls.SIGNATURE_DST) == HASH_TO_G1_GAS
    ok, gas = harness.verifyGas(signature, public, MESSAGE)
    assert ok is True and gas == VERIFY_GAS
    _, public_key, proof = committee[0]
    ok, gas = harness.verifyPossessionGas(eip(public_key), eip(proof))
    assert ok is True and gas == VERIFY_POSSESSION_GAS
    assert harness.g2AddGas(public, eip(committee[1][1])) == G2_ADD_GAS
    # the budget: verify of a 32-byte message within 130k including hash-to-curve
    assert VERIFY_GAS <= 130_000


def test_the_assembly_reverts_with_the_declared_errors_selectors(harness):
    failed, failed_expected, length, length_expected = harness.errorSelectors()
    assert failed == failed_expected and length == length_expected
