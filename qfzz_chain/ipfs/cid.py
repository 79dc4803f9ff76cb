"""CIDs: parsing user input, and computing the CID of a block's bytes.

Blocks are identified on disk by their multihash alone (as kubo's blockstore does), so the same
bytes reached through a CIDv0 and a CIDv1 are one block.
"""

from __future__ import annotations

import hashlib

from multiformats import CID, multihash

from qfzz_chain.ipfs.errors import InvalidCidError

DAG_PB = 0x70
RAW = 0x55
SHA2_256 = 0x12
_SHA2_256_PREFIX = bytes([SHA2_256, 32])


def parse_cid(text: str) -> CID:
    """Parse a CID string (v0 ``Qm…`` or v1 multibase), accepting an ``/ipfs/`` prefix.

    Raises ``InvalidCidError`` naming the string when it is not a CID.
    """
    candidate = text.strip()
    if candidate.startswith("/ipfs/"):
        candidate = candidate[len("/ipfs/") :].split("/", 1)[0]
    try:
        return CID.decode(candidate)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidCidError(f"{text!r} is not a valid CID ({exc})") from None


def cid_of_block(data: bytes | memoryview, *, codec: int, version: int) -> CID:
    """The sha2-256 CID of a block; CIDv0 exists only for dag-pb, so raw blocks are always v1."""
    digest = hashlib.sha256(data).digest()
    if version == 0:
        return CID("base58btc", 0, DAG_PB, _SHA2_256_PREFIX + digest)
    return CID("base32", 1, codec, _SHA2_256_PREFIX + digest)


def block_matches(cid: CID, data: bytes | memoryview) -> bool:
    """Whether ``data`` hashes to ``cid``'s multihash (any hash function multiformats knows)."""
    if cid.hashfun.code == SHA2_256:
        return hashlib.sha256(data).digest() == cid.raw_digest
    return bool(multihash.digest(bytes(data), cid.hashfun.name) == cid.digest)
