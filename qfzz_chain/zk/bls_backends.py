"""The curve arithmetic behind ``qfzz_chain.zk.bls``: py-ecc (the reference) and arkworks (native).

A backend does group arithmetic, (de)compression with every validity check, hash-to-G1 and the
pairing product check; ``bls.py`` builds the ciphersuite on top of it once, so both backends run
the same protocol code and must agree byte for byte (tests/zk/test_bls_backends.py checks keys,
signatures, aggregates, proofs of possession and hash-to-curve). Points are opaque to callers:
each backend's own objects.

- ``py_ecc``: py-ecc 8's optimized BLS12-381 in pure Python. Sign ~0.1 s, verify ~0.3 s.
- ``arkworks``: ``py-arkworks-bls12381`` (the Ethereum Foundation's binding of the arkworks Rust
  crates). Sign ~1 ms, verify ~5-8 ms on this machine; its decoders check the subgroup.

``BACKENDS`` maps each name to a builder; ``available_backends()`` lists those whose library
imports.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from qfzz_chain.zk.errors import InvalidPointError

# BLS12-381 parameters (draft-irtf-cfrg-pairing-friendly-curves-11, section 4.2.1).
FIELD_MODULUS = 0x1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB
CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001

Fp2 = tuple[int, int]  # c0 + c1·u
G1Affine = tuple[int, int] | None  # None is the point at infinity
G2Affine = tuple[Fp2, Fp2] | None


class Backend(Protocol):
    """Group arithmetic on BLS12-381 with checked decoding."""

    name: str

    def hash_to_g1(self, message: bytes, dst: bytes) -> Any:
        """RFC 9380 BLS12381G1_XMD:SHA-256_SSWU_RO_ (``dst`` at most 255 bytes)."""

    def g1_mul(self, point: Any, scalar: int) -> Any: ...

    def g2_generator_mul(self, scalar: int) -> Any: ...

    def g1_add(self, a: Any, b: Any) -> Any: ...

    def g2_add(self, a: Any, b: Any) -> Any: ...

    def g1_identity(self) -> Any: ...

    def g2_identity(self) -> Any: ...

    def g1_is_identity(self, point: Any) -> bool: ...

    def g2_is_identity(self, point: Any) -> bool: ...

    def g1_compress(self, point: Any) -> bytes:
        """48 bytes, ZCash format."""

    def g2_compress(self, point: Any) -> bytes:
        """96 bytes, ZCash format (x.c1 ‖ x.c0)."""

    def g1_decompress(self, data: bytes) -> Any:
        """Checked: flags, x < p, on the curve, in the subgroup; ``InvalidPointError`` otherwise."""

    def g2_decompress(self, data: bytes) -> Any: ...

    def g1_affine(self, point: Any) -> G1Affine: ...

    def g2_affine(self, point: Any) -> G2Affine: ...

    def g1_from_affine(self, xy: G1Affine) -> Any:
        """Checked: on the curve and in the subgroup; ``InvalidPointError`` otherwise."""

    def g2_from_affine(self, xy: G2Affine) -> Any: ...

    def pairing_check(self, pairs: Sequence[tuple[Any, Any]]) -> bool:
        """True iff the product of e(P, Q) over the (G1, G2) pairs is 1."""


class PyEccBackend:
    """py-ecc 8 (pure Python): the reference every other backend is tested against."""

    name = "py_ecc"

    def __init__(self) -> None:
        from py_ecc import optimized_bls12_381 as curve
        from py_ecc.bls import g2_primitives, hash_to_curve

        self._curve = curve
        self._primitives = g2_primitives
        self._hash_to_curve = hash_to_curve
        self._FQ = curve.FQ
        self._FQ2 = curve.FQ2

    def hash_to_g1(self, message: bytes, dst: bytes) -> Any:
        return self._hash_to_curve.hash_to_G1(message, dst, hashlib.sha256)

    def g1_mul(self, point: Any, scalar: int) -> Any:
        return self._curve.multiply(point, scalar)

    def g2_generator_mul(self, scalar: int) -> Any:
        return self._curve.multiply(self._curve.G2, scalar)

    def g1_add(self, a: Any, b: Any) -> Any:
        return self._curve.add(a, b)

    def g2_add(self, a: Any, b: Any) -> Any:
        return self._curve.add(a, b)

    def g1_identity(self) -> Any:
        return self._curve.Z1

    def g2_identity(self) -> Any:
        return self._curve.Z2

    def g1_is_identity(self, point: Any) -> bool:
        return self._curve.is_inf(point)

    def g2_is_identity(self, point: Any) -> bool:
        return self._curve.is_inf(point)

    def g1_compress(self, point: Any) -> bytes:
        return bytes(self._primitives.G1_to_pubkey(point))

    def g2_compress(self, point: Any) -> bytes:
        return bytes(self._primitives.G2_to_signature(point))

    def g1_decompress(self, data: bytes) -> Any:
        try:
            point = self._primitives.pubkey_to_G1(data)
        except (ValueError, AssertionError) as exc:
            raise InvalidPointError(f"not a compressed G1 point: {exc}") from None
        return self._in_subgroup(point, "G1")

    def g2_decompress(self, data: bytes) -> Any:
        try:
            point = self._primitives.signature_to_G2(data)
        except (ValueError, AssertionError) as exc:
            raise InvalidPointError(f"not a compressed G2 point: {exc}") from None
        return self._in_subgroup(point, "G2")

    def g1_affine(self, point: Any) -> G1Affine:
        if self._curve.is_inf(point):
            return None
        x, y = self._curve.normalize(point)
        return int(x), int(y)

    def g2_affine(self, point: Any) -> G2Affine:
        if self._curve.is_inf(point):
            return None
        x, y = self._curve.normalize(point)
        return (int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1]))

    def g1_from_affine(self, xy: G1Affine) -> Any:
        if xy is None:
            return self._curve.Z1
        point = (self._FQ(xy[0]), self._FQ(xy[1]), self._FQ.one())
        if not self._curve.is_on_curve(point, self._curve.b):
            raise InvalidPointError("the G1 point is not on the curve y² = x³ + 4")
        return self._in_subgroup(point, "G1")

    def g2_from_affine(self, xy: G2Affine) -> Any:
        if xy is None:
            return self._curve.Z2
        (x0, x1), (y0, y1) = xy
        point = (self._FQ2([x0, x1]), self._FQ2([y0, y1]), self._FQ2.one())
        if not self._curve.is_on_curve(point, self._curve.b2):
            raise InvalidPointError("the G2 point is not on the twist y² = x³ + 4(1 + u)")
        return self._in_subgroup(point, "G2")

    def pairing_check(self, pairs: Sequence[tuple[Any, Any]]) -> bool:
        curve = self._curve
        product = curve.FQ12.one()
        for g1, g2 in pairs:
            product *= curve.pairing(g2, g1, final_exponentiate=False)
        return curve.final_exponentiate(product) == curve.FQ12.one()

    def _in_subgroup(self, point: Any, group: str) -> Any:
        if not self._curve.is_inf(point) and not self._primitives.subgroup_check(point):
            raise InvalidPointError(f"the {group} point is not in the prime-order subgroup")
        return point


class ArkworksBackend:
    """``py-arkworks-bls12381`` (Rust): about 100 times faster than py-ecc."""

    name = "arkworks"

    def __init__(self) -> None:
        from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

        self._G1, self._G2, self._Scalar, self._GT = G1Point, G2Point, Scalar, GT
        self._g2_generator = G2Point()

    def hash_to_g1(self, message: bytes, dst: bytes) -> Any:
        return self._G1.hash_to_curve(message, dst)

    def g1_mul(self, point: Any, scalar: int) -> Any:
        return point * self._Scalar(scalar)

    def g2_generator_mul(self, scalar: int) -> Any:
        return self._g2_generator * self._Scalar(scalar)

    def g1_add(self, a: Any, b: Any) -> Any:
        return a + b

    def g2_add(self, a: Any, b: Any) -> Any:
        return a + b

    def g1_identity(self) -> Any:
        return self._G1.identity()

    def g2_identity(self) -> Any:
        return self._G2.identity()

    def g1_is_identity(self, point: Any) -> bool:
        return point == self._G1.identity()

    def g2_is_identity(self, point: Any) -> bool:
        return point == self._G2.identity()

    def g1_compress(self, point: Any) -> bytes:
        return bytes(point.to_compressed_bytes())

    def g2_compress(self, point: Any) -> bytes:
        return bytes(point.to_compressed_bytes())

    def g1_decompress(self, data: bytes) -> Any:
        try:
            return self._G1.from_compressed_bytes(bytes(data))
        except ValueError as exc:
            raise InvalidPointError(f"not a compressed G1 point of the subgroup: {exc}") from None

    def g2_decompress(self, data: bytes) -> Any:
        try:
            return self._G2.from_compressed_bytes(bytes(data))
        except ValueError as exc:
            raise InvalidPointError(f"not a compressed G2 point of the subgroup: {exc}") from None

    def g1_affine(self, point: Any) -> G1Affine:
        if self.g1_is_identity(point):
            return None
        raw = point.to_xy_bytes_be()
        return int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big")

    def g2_affine(self, point: Any) -> G2Affine:
        if self.g2_is_identity(point):
            return None
        raw = point.to_xy_bytes_be()  # x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1, 48 bytes each
        c = [int.from_bytes(raw[i : i + 48], "big") for i in range(0, 192, 48)]
        return (c[0], c[1]), (c[2], c[3])

    def g1_from_affine(self, xy: G1Affine) -> Any:
        if xy is None:
            return self._G1.identity()
        raw = xy[0].to_bytes(48, "big") + xy[1].to_bytes(48, "big")
        try:
            return self._G1.from_xy_bytes_be(raw)
        except ValueError as exc:
            raise InvalidPointError(f"not a G1 point of the subgroup: {exc}") from None

    def g2_from_affine(self, xy: G2Affine) -> Any:
        if xy is None:
            return self._G2.identity()
        (x0, x1), (y0, y1) = xy
        raw = b"".join(c.to_bytes(48, "big") for c in (x0, x1, y0, y1))
        try:
            return self._G2.from_xy_bytes_be(raw)
        except ValueError as exc:
            raise InvalidPointError(f"not a G2 point of the subgroup: {exc}") from None

    def pairing_check(self, pairs: Sequence[tuple[Any, Any]]) -> bool:
        return bool(self._GT.pairing_check([p for p, _ in pairs], [q for _, q in pairs]))


BACKENDS: dict[str, Callable[[], Backend]] = {"arkworks": ArkworksBackend, "py_ecc": PyEccBackend}
PREFERENCE = ("arkworks", "py_ecc")  # fastest first; py-ecc is a dependency, always there
_MODULES = {"arkworks": "py_arkworks_bls12381", "py_ecc": "py_ecc"}


def available_backends() -> list[str]:
    """Names of the backends whose library is installed here, fastest first (nothing is imported)."""
    return [name for name in PREFERENCE if importlib.util.find_spec(_MODULES[name]) is not None]
