"""EIP-2537 encodings of points the library must refuse or handle: off the curve, outside the
subgroup, at infinity, with an unreduced coordinate; and the py-ecc reference conversions."""

from __future__ import annotations

from functools import cache

from py_ecc import optimized_bls12_381 as curve
from py_ecc.bls.g2_primitives import subgroup_check
from py_ecc.bls.point_compression import modular_squareroot_in_FQ2

P = curve.field_modulus
G1_INFINITY = bytes(128)
G2_INFINITY = bytes(256)


def fp(value: int) -> bytes:
    return value.to_bytes(64, "big")


def g1_encoding(point) -> bytes:
    """EIP-2537 encoding of a py-ecc G1 point."""
    if curve.is_inf(point):
        return G1_INFINITY
    x, y = curve.normalize(point)
    return fp(int(x)) + fp(int(y))


def g2_encoding(point) -> bytes:
    """EIP-2537 encoding of a py-ecc G2 point: x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1."""
    if curve.is_inf(point):
        return G2_INFINITY
    x, y = curve.normalize(point)
    return b"".join(fp(int(c)) for c in (*x.coeffs, *y.coeffs))


def g1_point(encoding: bytes):
    if encoding == G1_INFINITY:
        return curve.Z1
    x, y = int.from_bytes(encoding[:64], "big"), int.from_bytes(encoding[64:], "big")
    return (curve.FQ(x), curve.FQ(y), curve.FQ.one())


def g2_point(encoding: bytes):
    if encoding == G2_INFINITY:
        return curve.Z2
    c = [int.from_bytes(encoding[i : i + 64], "big") for i in range(0, 256, 64)]
    return (curve.FQ2([c[0], c[1]]), curve.FQ2([c[2], c[3]]), curve.FQ2.one())


@cache
def g1_outside_subgroup() -> bytes:
    """A point of y² = x³ + 4 over Fp that is not in the order-r subgroup (the cofactor is ~2^125)."""
    x = 1
    while True:
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            point = (curve.FQ(x), curve.FQ(y), curve.FQ.one())
            if not subgroup_check(point):
                return fp(x) + fp(y)
        x += 1


@cache
def g2_outside_subgroup() -> bytes:
    """A point of the twist over Fp2 that is not in G2."""
    k = 1
    while True:
        x = curve.FQ2([k, 1])
        y = modular_squareroot_in_FQ2(x**3 + curve.b2)
        if y is not None:
            point = (x, y, curve.FQ2.one())
            if not subgroup_check(point):
                return g2_encoding(point)
        k += 1


def g1_off_curve() -> bytes:
    return fp(1) + fp(1)  # 1 ≠ 1 + 4


def g2_off_curve() -> bytes:
    return fp(1) + fp(0) + fp(1) + fp(0)


def compressed_g2_reference(encoding: bytes) -> bytes:
    """ZCash compression of raw EIP-2537 G2 coordinates, by py-ecc's rule (compress_G2): the sign
    flag is the top bit of 2·y.c1 // p, or of y.c0 when y.c1 = 0."""
    x0, x1, y0, y1 = (int.from_bytes(encoding[i : i + 64], "big") for i in range(0, 256, 64))
    if not any(encoding):
        return bytes([0xC0]) + bytes(95)
    sign = (y1 * 2) // P if y1 > 0 else (y0 * 2) // P
    return (x1 + (sign << 381) + (1 << 383)).to_bytes(48, "big") + x0.to_bytes(48, "big")
