"""Salted hash commitments: a receipt names its listener without revealing them.

Format (specified here, once)::

    commitment = keccak256(abi.encode(bytes32 salt, bytes value))
               = keccak256(salt ‖ uint256(0x40) ‖ uint256(len(value)) ‖ value ‖ zero padding to 32 bytes)

``value`` is the committed identity as bytes (for a listener: the UTF-8 of their listener id);
``salt`` is 32 bytes from ``secrets.token_bytes`` that only the listener keeps. Solidity computes
the same with ``keccak256(abi.encode(salt, value))``.

Why it is safe: *hiding*, because with a uniformly random 256-bit salt the commitment is
independent of the value to anyone without the salt (no dictionary of listener ids helps);
*binding*, because ``abi.encode`` of (bytes32, bytes) is injective (the length is encoded), so
opening one commitment to two values needs a keccak256 collision. One salt per commitment:
reusing a salt lets anyone link the receipts that share it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import NewType

from tiny_keccak import keccak256

from qfzz_chain.zk.errors import CommitmentError

__all__ = ["Commitment", "SALT_LENGTH", "commit", "make_commitment", "new_salt", "verify_commitment"]

Commitment = NewType("Commitment", bytes)  # 32 bytes
SALT_LENGTH = 32
_OFFSET_WORD = (0x40).to_bytes(32, "big")


def new_salt() -> bytes:
    """A fresh 32-byte salt from the operating system's CSPRNG."""
    return secrets.token_bytes(SALT_LENGTH)


def make_commitment(salt: bytes, value: bytes) -> Commitment:
    """keccak256(abi.encode(bytes32 salt, bytes value)); ``CommitmentError`` for a salt not 32 bytes."""
    if not isinstance(salt, (bytes, bytearray)) or len(salt) != SALT_LENGTH:
        raise CommitmentError(f"a salt is {SALT_LENGTH} bytes, got {len(salt) if hasattr(salt, '__len__') else salt!r}")
    if not isinstance(value, (bytes, bytearray)):
        raise CommitmentError(f"a committed value is bytes, got {type(value).__name__}")
    padding = bytes(-len(value) % 32)
    return Commitment(keccak256(bytes(salt) + _OFFSET_WORD + len(value).to_bytes(32, "big") + bytes(value) + padding))


def commit(value: bytes) -> tuple[Commitment, bytes]:
    """Commit to ``value`` under a fresh salt: (commitment, salt). Keep the salt to open it later."""
    salt = new_salt()
    return make_commitment(salt, value), salt


def verify_commitment(commitment: bytes, value: bytes, salt: bytes) -> bool:
    """Does (``value``, ``salt``) open ``commitment``? False for a wrong value or salt (constant time)."""
    if len(commitment) != 32 or not isinstance(salt, (bytes, bytearray)) or len(salt) != SALT_LENGTH:
        return False
    return hmac.compare_digest(make_commitment(salt, value), bytes(commitment))
