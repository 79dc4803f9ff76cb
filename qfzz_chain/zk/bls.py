"""BLS signatures, ciphersuite ``BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_``.

draft-irtf-cfrg-bls-signature-05 with minimal signature size: signatures (and proofs of
possession) are G1 points, 48 bytes compressed; public keys are G2 points, 96 bytes compressed;
messages hash to G1 by RFC 9380 ``BLS12381G1_XMD:SHA-256_SSWU_RO_``. The orientation follows the
gas budget: the contract hashes to G1 on-chain (2 × MAP_FP_TO_G1 = 11,000 gas where hashing to
G2 costs 2 × 23,800) and keeps one aggregate key per committee (docs/zk.md has the figures).
Rogue keys are stopped by proofs of possession: a key joins a committee only with a valid
``prove_possession`` (checked on-chain by ``BLS12381.verifyPossession``), after which
``fast_aggregate_verify`` of one message is sound.

Types follow py-ecc (``BLSPubkey``/``BLSSignature`` are ``bytes``): ``PublicKey`` and
``Signature`` are the compressed ZCash serializations, ``SecretKey`` an integer in [1, r − 1].
Every function that takes a point decodes it with every check (length, flags, field range, on
the curve, in the subgroup, and canonical: the bytes must be the point's own encoding, so no
point has two; a public key at infinity is refused, the draft's KeyValidate), so a value of
these types is only trusted after it has been through one. The EIP-2537 encodings the
contracts take (``to_eip2537``, ``public_key_from_eip2537``, ``signature_from_eip2537``) are
uncompressed: 64 bytes per field element, big-endian, top 16 bytes zero; infinity is all zeros.

The arithmetic comes from a backend (``bls_backends``): arkworks when ``py-arkworks-bls12381``
imports, else py-ecc, the reference; ``QFZZ_BLS_BACKEND=py_ecc`` forces one. ``BlsScheme(backend)``
runs the same code over a chosen backend; the module functions use the default one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache
from typing import Any, NewType

from qfzz_chain.zk.bls_backends import BACKENDS, CURVE_ORDER, FIELD_MODULUS, Backend, available_backends
from qfzz_chain.zk.errors import (
    InvalidPointError,
    InvalidPublicKeyError,
    InvalidSecretKeyError,
    InvalidSignatureError,
    ZkError,
)

__all__ = [
    "POP_DST",
    "SIGNATURE_DST",
    "BlsScheme",
    "PublicKey",
    "SecretKey",
    "Signature",
    "aggregate_public_keys",
    "aggregate_signatures",
    "default_scheme",
    "expand_message_xmd",
    "fast_aggregate_verify",
    "hash_to_field_g1",
    "hash_to_g1",
    "keygen",
    "prove_possession",
    "public_key",
    "public_key_from_bytes",
    "public_key_from_eip2537",
    "secret_key_from_bytes",
    "secret_key_to_bytes",
    "sign",
    "signature_from_bytes",
    "signature_from_eip2537",
    "to_eip2537",
    "verify",
    "verify_possession",
]

SecretKey = NewType("SecretKey", int)
PublicKey = NewType("PublicKey", bytes)  # 96 bytes, compressed G2
Signature = NewType("Signature", bytes)  # 48 bytes, compressed G1

SIGNATURE_DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"
POP_DST = b"BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"

PUBLIC_KEY_LENGTH = 96
SIGNATURE_LENGTH = 48
SECRET_KEY_LENGTH = 32
EIP2537_FP_LENGTH = 64
EIP2537_G1_LENGTH = 128
EIP2537_G2_LENGTH = 256
_KEYGEN_SALT = b"BLS-SIG-KEYGEN-SALT-"
_KEYGEN_LENGTH = 48  # L = ceil(3 · ceil(log2 r) / 16)
_MIN_IKM_LENGTH = 32


# ---- hash to curve (RFC 9380), backend independent ------------------------------------------------


def expand_message_xmd(message: bytes, dst: bytes, len_in_bytes: int) -> bytes:
    """RFC 9380 section 5.3.1 with SHA-256; a DST over 255 bytes is shortened as section 5.3.3 says."""
    if len(dst) > 255:
        dst = hashlib.sha256(b"H2C-OVERSIZE-DST-" + dst).digest()
    ell = -(-len_in_bytes // 32)
    if ell > 255 or len_in_bytes > 65535 or len_in_bytes < 0:
        raise ZkError(f"expand_message_xmd cannot produce {len_in_bytes} bytes (at most 8,160 with SHA-256)")
    if ell == 0:
        return b""
    dst_prime = dst + bytes([len(dst)])
    b_0 = hashlib.sha256(bytes(64) + message + len_in_bytes.to_bytes(2, "big") + b"\x00" + dst_prime).digest()
    blocks = [hashlib.sha256(b_0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        chained = bytes(x ^ y for x, y in zip(b_0, blocks[-1], strict=True))
        blocks.append(hashlib.sha256(chained + bytes([i]) + dst_prime).digest())
    return b"".join(blocks)[:len_in_bytes]


def hash_to_field_g1(message: bytes, dst: bytes) -> tuple[int, int]:
    """RFC 9380 hash_to_field for BLS12381G1 (count 2, L = 64): (u0, u1) in Fp."""
    uniform = expand_message_xmd(message, dst, 128)
    return int.from_bytes(uniform[:64], "big") % FIELD_MODULUS, int.from_bytes(uniform[64:], "big") % FIELD_MODULUS


# ---- keys --------------------------------------------------------------------------------------


def keygen(ikm: bytes, key_info: bytes = b"") -> SecretKey:
    """KeyGen of the draft (section 2.3): HKDF-SHA-256 of at least 32 bytes of secret ``ikm``.

    Deterministic: the same ``ikm`` always gives the same key, so a node can derive its key from
    a stored seed. Use ``os.urandom(32)`` (or more) for a fresh key.
    """
    if len(ikm) < _MIN_IKM_LENGTH:
        raise InvalidSecretKeyError(f"key material is {len(ikm)} bytes: KeyGen needs at least {_MIN_IKM_LENGTH}")
    salt, secret = _KEYGEN_SALT, 0
    while secret == 0:
        salt = hashlib.sha256(salt).digest()
        prk = hmac.new(salt, ikm + b"\x00", hashlib.sha256).digest()  # HKDF-Extract
        info = key_info + _KEYGEN_LENGTH.to_bytes(2, "big")
        okm, block = b"", b""
        for counter in range(1, -(-_KEYGEN_LENGTH // 32) + 1):  # HKDF-Expand
            block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
            okm += block
        secret = int.from_bytes(okm[:_KEYGEN_LENGTH], "big") % CURVE_ORDER
    return SecretKey(secret)


def secret_key_to_bytes(secret_key: SecretKey) -> bytes:
    """I2OSP(SK, 32), the draft's serialization of a secret key."""
    return _checked_secret(secret_key).to_bytes(SECRET_KEY_LENGTH, "big")


def secret_key_from_bytes(data: bytes) -> SecretKey:
    """The key ``secret_key_to_bytes`` wrote; ``InvalidSecretKeyError`` unless 32 bytes in [1, r − 1]."""
    if len(data) != SECRET_KEY_LENGTH:
        raise InvalidSecretKeyError(f"a secret key is {SECRET_KEY_LENGTH} bytes, got {len(data)}")
    return _checked_secret(int.from_bytes(data, "big"))


def _checked_secret(secret_key: int) -> SecretKey:
    if not isinstance(secret_key, int) or isinstance(secret_key, bool) or not 0 < secret_key < CURVE_ORDER:
        raise InvalidSecretKeyError("a secret key is an integer in [1, r − 1]")
    return SecretKey(secret_key)


# ---- the scheme over a backend ---------------------------------------------------------------------


class BlsScheme:
    """The ciphersuite's algorithms over one backend (see ``bls_backends``)."""

    def __init__(self, backend: Backend):
        self.backend = backend
        # Public keys are decoded on every verification (a G2 subgroup check: ~1 ms native, ~0.1 s
        # in py-ecc) and a committee's keys recur every epoch: remember the last few thousand.
        self._decode_public_key = lru_cache(maxsize=4096)(self._decode_public_key_uncached)

    def __repr__(self) -> str:
        return f"BlsScheme({self.backend.name})"

    def clear_key_cache(self) -> None:
        """Forget decoded public keys (the next verification decodes and subgroup-checks again)."""
        self._decode_public_key.cache_clear()

    # -- keys and signing

    def public_key(self, secret_key: SecretKey) -> PublicKey:
        """SkToPk: SK · G2, compressed (96 bytes)."""
        return PublicKey(self.backend.g2_compress(self.backend.g2_generator_mul(_checked_secret(secret_key))))

    def sign(self, secret_key: SecretKey, message: bytes) -> Signature:
        """CoreSign with ``SIGNATURE_DST``: SK · H(message), compressed (48 bytes)."""
        return self._core_sign(secret_key, message, SIGNATURE_DST)

    def prove_possession(self, secret_key: SecretKey) -> Signature:
        """PopProve: SK · H_pop(compressed public key), ``POP_DST``; the contract checks it at registration."""
        return self._core_sign(secret_key, self.public_key(secret_key), POP_DST)

    def _core_sign(self, secret_key: SecretKey, message: bytes, dst: bytes) -> Signature:
        point = self.backend.g1_mul(self._hash(message, dst), _checked_secret(secret_key))
        return Signature(self.backend.g1_compress(point))

    # -- verification

    def verify(self, public_key: PublicKey, message: bytes, signature: Signature) -> bool:
        """CoreVerify: False for a wrong signature and for any key or signature that does not decode."""
        return self._core_verify(public_key, message, signature, SIGNATURE_DST)

    def verify_possession(self, public_key: PublicKey, proof: Signature) -> bool:
        """PopVerify: is ``proof`` a proof of possession of ``public_key``'s secret key?"""
        return self._core_verify(public_key, bytes(public_key), proof, POP_DST)

    def fast_aggregate_verify(self, public_keys: Sequence[PublicKey], message: bytes, signature: Signature) -> bool:
        """FastAggregateVerify: every key signed ``message`` and ``signature`` aggregates them.

        Sound only for keys whose proofs of possession were checked (a rogue key passes it
        otherwise: tests/zk/test_bls.py shows one). False for an empty list, an undecodable key or
        an aggregate key at infinity.
        """
        if not public_keys:
            return False
        try:
            aggregate = self._aggregate_points(public_keys)
        except InvalidPointError:
            return False
        if self.backend.g2_is_identity(aggregate):
            return False
        return self._verify_point(aggregate, message, signature, SIGNATURE_DST)

    def _core_verify(self, public_key: PublicKey, message: bytes, signature: Signature, dst: bytes) -> bool:
        try:
            key = self._decode_public_key(bytes(public_key))
        except InvalidPointError:
            return False
        return self._verify_point(key, message, signature, dst)

    def _verify_point(self, key: Any, message: bytes, signature: Signature, dst: bytes) -> bool:
        try:
            point = self.signature_point(signature)
        except InvalidPointError:
            return False
        # e(signature, −G2) · e(H(message), PK) = 1, the product the contract checks
        pairs = [(point, self._negated_generator), (self._hash(message, dst), key)]
        return self.backend.pairing_check(pairs)

    @cached_property
    def _negated_generator(self) -> Any:
        return self.backend.g2_generator_mul(CURVE_ORDER - 1)

    def _hash(self, message: bytes, dst: bytes) -> Any:
        if len(dst) > 255:  # RFC 9380 section 5.3.3
            dst = hashlib.sha256(b"H2C-OVERSIZE-DST-" + dst).digest()
        return self.backend.hash_to_g1(bytes(message), dst)

    # -- aggregation

    def aggregate_signatures(self, signatures: Iterable[Signature]) -> Signature:
        """Aggregate: the sum of the signatures (each decoded and subgroup-checked)."""
        points = [self.signature_point(s) for s in signatures]
        if not points:
            raise InvalidSignatureError("cannot aggregate an empty list of signatures")
        total = points[0]
        for point in points[1:]:
            total = self.backend.g1_add(total, point)
        return Signature(self.backend.g1_compress(total))

    def aggregate_public_keys(self, public_keys: Iterable[PublicKey]) -> PublicKey:
        """The sum of the keys (each KeyValidated); ``InvalidPublicKeyError`` if it is infinity."""
        keys = list(public_keys)
        if not keys:
            raise InvalidPublicKeyError("cannot aggregate an empty list of public keys")
        total = self._aggregate_points(keys)
        if self.backend.g2_is_identity(total):
            raise InvalidPublicKeyError("the aggregate public key is the point at infinity")
        return PublicKey(self.backend.g2_compress(total))

    def _aggregate_points(self, public_keys: Sequence[PublicKey]) -> Any:
        total = self._decode_public_key(bytes(public_keys[0]))
        for key in public_keys[1:]:
            total = self.backend.g2_add(total, self._decode_public_key(bytes(key)))
        return total

    # -- hash to curve

    def hash_to_g1(self, message: bytes, dst: bytes = SIGNATURE_DST) -> bytes:
        """H(message) as the 128-byte EIP-2537 encoding ``BLS12381.hashToG1`` returns."""
        return _g1_to_eip2537(self.backend.g1_affine(self._hash(message, dst)))

    # -- decoding (every check) and EIP-2537

    def public_key_point(self, public_key: PublicKey) -> Any:
        """The backend point of a compressed public key, KeyValidated."""
        return self._decode_public_key(bytes(public_key))

    def signature_point(self, signature: Signature) -> Any:
        """The backend point of a compressed signature, in the subgroup (infinity decodes)."""
        data = bytes(signature)
        if len(data) != SIGNATURE_LENGTH:
            raise InvalidSignatureError(f"a signature is {SIGNATURE_LENGTH} bytes compressed, got {len(data)}")
        try:
            point = self.backend.g1_decompress(data)
        except InvalidPointError as exc:
            raise InvalidSignatureError(f"invalid signature: {exc}") from None
        if self.backend.g1_compress(point) != data:
            # arkworks reads 0xc0/0xe0 followed by anything as infinity; py-ecc refuses it
            raise InvalidSignatureError("invalid signature: not the canonical encoding of its point")
        return point

    def _decode_public_key_uncached(self, data: bytes) -> Any:
        if len(data) != PUBLIC_KEY_LENGTH:
            raise InvalidPublicKeyError(f"a public key is {PUBLIC_KEY_LENGTH} bytes compressed, got {len(data)}")
        try:
            point = self.backend.g2_decompress(data)
        except InvalidPointError as exc:
            raise InvalidPublicKeyError(f"invalid public key: {exc}") from None
        if self.backend.g2_is_identity(point):
            raise InvalidPublicKeyError("the public key is the point at infinity")
        if self.backend.g2_compress(point) != data:
            raise InvalidPublicKeyError("invalid public key: not the canonical encoding of its point")
        return point

    def to_eip2537(self, point: PublicKey | Signature) -> bytes:
        """The uncompressed EIP-2537 encoding of a public key (256 bytes) or a signature (128 bytes)."""
        data = bytes(point)
        if len(data) == PUBLIC_KEY_LENGTH:
            return _g2_to_eip2537(self.backend.g2_affine(self.public_key_point(PublicKey(data))))
        if len(data) == SIGNATURE_LENGTH:
            return _g1_to_eip2537(self.backend.g1_affine(self.signature_point(Signature(data))))
        raise InvalidPointError(
            f"a compressed point is {SIGNATURE_LENGTH} (signature) or {PUBLIC_KEY_LENGTH} (public key) bytes, "
            f"got {len(data)}"
        )

    def public_key_from_eip2537(self, data: bytes) -> PublicKey:
        """A public key from its 256-byte EIP-2537 encoding: on the curve, in G2, not infinity."""
        if len(data) != EIP2537_G2_LENGTH:
            raise InvalidPublicKeyError(f"an EIP-2537 G2 point is {EIP2537_G2_LENGTH} bytes, got {len(data)}")
        try:
            x0, x1, y0, y1 = (_fp_from_eip2537(data, offset) for offset in range(0, 256, 64))
            affine = None if not any(data) else ((x0, x1), (y0, y1))
            point = self.backend.g2_from_affine(affine)
        except InvalidPointError as exc:
            raise InvalidPublicKeyError(f"invalid public key: {exc}") from None
        if self.backend.g2_is_identity(point):
            raise InvalidPublicKeyError("the public key is the point at infinity")
        return PublicKey(self.backend.g2_compress(point))

    def signature_from_eip2537(self, data: bytes) -> Signature:
        """A signature from its 128-byte EIP-2537 encoding: on the curve and in G1."""
        if len(data) != EIP2537_G1_LENGTH:
            raise InvalidSignatureError(f"an EIP-2537 G1 point is {EIP2537_G1_LENGTH} bytes, got {len(data)}")
        try:
            x, y = _fp_from_eip2537(data, 0), _fp_from_eip2537(data, 64)
            point = self.backend.g1_from_affine(None if not any(data) else (x, y))
        except InvalidPointError as exc:
            raise InvalidSignatureError(f"invalid signature: {exc}") from None
        return Signature(self.backend.g1_compress(point))


def _fp_from_eip2537(data: bytes, offset: int) -> int:
    element = data[offset : offset + EIP2537_FP_LENGTH]
    if any(element[:16]):
        raise InvalidPointError(f"field element at byte {offset}: its top 16 bytes are not zero")
    value = int.from_bytes(element, "big")
    if value >= FIELD_MODULUS:
        raise InvalidPointError(f"field element at byte {offset} is not below the modulus p")
    return value


def _g1_to_eip2537(affine: Any) -> bytes:
    if affine is None:
        return bytes(EIP2537_G1_LENGTH)
    return b"".join(c.to_bytes(EIP2537_FP_LENGTH, "big") for c in affine)


def _g2_to_eip2537(affine: Any) -> bytes:
    if affine is None:
        return bytes(EIP2537_G2_LENGTH)
    (x0, x1), (y0, y1) = affine
    return b"".join(c.to_bytes(EIP2537_FP_LENGTH, "big") for c in (x0, x1, y0, y1))


# ---- the default scheme and module-level functions -----------------------------------------------


@lru_cache(maxsize=None)
def scheme_for(name: str) -> BlsScheme:
    """The scheme over the backend ``name`` (``arkworks`` or ``py_ecc``), built once."""
    if name not in BACKENDS:
        raise ZkError(f"unknown BLS backend {name!r}: choose one of {', '.join(sorted(BACKENDS))}")
    try:
        return BlsScheme(BACKENDS[name]())
    except ImportError as exc:
        raise ZkError(f"the BLS backend {name!r} is not installed: {exc}") from None


def default_scheme() -> BlsScheme:
    """``QFZZ_BLS_BACKEND`` if set, else the fastest backend installed (arkworks, then py-ecc)."""
    forced = os.environ.get("QFZZ_BLS_BACKEND")
    if forced:
        return scheme_for(forced)
    available = available_backends()
    if not available:
        raise ZkError("no BLS backend is installed: pip install py-ecc (or py-arkworks-bls12381)")
    return scheme_for(available[0])


def public_key(secret_key: SecretKey) -> PublicKey:
    """SkToPk: the 96-byte compressed G2 public key of ``secret_key``."""
    return default_scheme().public_key(secret_key)


def sign(secret_key: SecretKey, message: bytes) -> Signature:
    """A 48-byte compressed G1 signature of ``message`` (``SIGNATURE_DST``)."""
    return default_scheme().sign(secret_key, message)


def verify(public_key: PublicKey, message: bytes, signature: Signature) -> bool:
    """CoreVerify; False for a wrong signature or an undecodable key or signature."""
    return default_scheme().verify(public_key, message, signature)


def aggregate_signatures(signatures: Iterable[Signature]) -> Signature:
    """The sum of the signatures, each decoded and subgroup-checked."""
    return default_scheme().aggregate_signatures(signatures)


def aggregate_public_keys(public_keys: Iterable[PublicKey]) -> PublicKey:
    """The sum of the keys, each KeyValidated; refuses an aggregate at infinity."""
    return default_scheme().aggregate_public_keys(public_keys)


def fast_aggregate_verify(public_keys: Sequence[PublicKey], message: bytes, signature: Signature) -> bool:
    """FastAggregateVerify: sound for keys with checked proofs of possession only."""
    return default_scheme().fast_aggregate_verify(public_keys, message, signature)


def prove_possession(secret_key: SecretKey) -> Signature:
    """PopProve: a signature of the compressed public key under ``POP_DST``."""
    return default_scheme().prove_possession(secret_key)


def verify_possession(public_key: PublicKey, proof: Signature) -> bool:
    """PopVerify of ``proof`` for ``public_key``."""
    return default_scheme().verify_possession(public_key, proof)


def hash_to_g1(message: bytes, dst: bytes = SIGNATURE_DST) -> bytes:
    """H(message) in G1 as the 128-byte EIP-2537 encoding (what ``BLS12381.hashToG1`` returns)."""
    return default_scheme().hash_to_g1(message, dst)


def to_eip2537(point: PublicKey | Signature) -> bytes:
    """Uncompressed EIP-2537 encoding: 256 bytes for a public key, 128 for a signature."""
    return default_scheme().to_eip2537(point)


def public_key_from_eip2537(data: bytes) -> PublicKey:
    """The compressed key of a 256-byte EIP-2537 G2 point (on the curve, in G2, not infinity)."""
    return default_scheme().public_key_from_eip2537(data)


def signature_from_eip2537(data: bytes) -> Signature:
    """The compressed signature of a 128-byte EIP-2537 G1 point (on the curve, in G1)."""
    return default_scheme().signature_from_eip2537(data)


def public_key_from_bytes(data: bytes) -> PublicKey:
    """A compressed public key, KeyValidated (``InvalidPublicKeyError`` otherwise)."""
    default_scheme().public_key_point(PublicKey(bytes(data)))
    return PublicKey(bytes(data))


def signature_from_bytes(data: bytes) -> Signature:
    """A compressed signature, decoded and subgroup-checked (``InvalidSignatureError`` otherwise)."""
    default_scheme().signature_point(Signature(bytes(data)))
    return Signature(bytes(data))
