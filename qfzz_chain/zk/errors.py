"""Errors of the cryptographic core (BLS, Merkle trees, commitments), under ``QfzzError``.

Each names the broken input in the caller's terms: which encoding, how long it was, which check
it failed. Verification functions do not raise for a signature or proof that merely fails to
verify: they return ``False`` (as the BLS draft's algorithms return INVALID); they raise for
inputs that cannot be a key, a signature or a tree at all, where the caller has a bug to fix.
"""

from __future__ import annotations

from qfzz_chain.errors import QfzzError

__all__ = [
    "InvalidPointError",
    "InvalidPublicKeyError",
    "InvalidSecretKeyError",
    "InvalidSignatureError",
    "MerkleError",
    "CommitmentError",
    "ZkError",
]


class ZkError(QfzzError):
    """Bad input to the cryptographic core."""


class InvalidSecretKeyError(ZkError):
    """A secret key is not an integer in [1, r − 1], or key material is too short."""


class InvalidPointError(ZkError):
    """Bytes do not encode a point of the expected group (length, flags, field range, curve, subgroup)."""


class InvalidPublicKeyError(InvalidPointError):
    """A public key is not a valid G2 point, or is the point at infinity (the draft's KeyValidate)."""


class InvalidSignatureError(InvalidPointError):
    """A signature or proof of possession is not a valid G1 point of the subgroup."""


class MerkleError(ZkError):
    """A Merkle tree cannot be built or read: no leaves, values not matching the leaf types, a bad dump."""


class CommitmentError(ZkError):
    """A commitment, salt or committed value has the wrong shape."""
