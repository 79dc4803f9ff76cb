"""CIDs: parsing user input, computing a block's CID, and the binary form used internally.

``multiformats.CID`` objects validate every field on construction (about 0.4 ms each), which
would cost more than hashing a 256 KiB block, so the store works on *binary* CIDs (``bytes``,
exactly what dag-pb links and CAR sections hold) and converts to ``CID`` only at its edges.

Blocks are identified on disk by their multihash alone (as kubo's blockstore does), so the same
bytes reached through a CIDv0 and a CIDv1 are one block.
"""

from __future__ import annotations

import hashlib

from multiformats import CID, multihash, varint

from qfzz_chain.ipfs.errors import InvalidCidError

DAG_PB = 0x70
RAW = 0x55
DAG_CBOR = 0x71
SHA2_256 = 0x12
_SHA2_256_PREFIX = bytes([SHA2_256, 32])
_CIDV1_PREFIX = {DAG_PB: bytes([1, DAG_PB]), RAW: bytes([1, RAW]), DAG_CBOR: bytes([1, DAG_CBOR])}


def parse_cid(text: str) -> CID:
    """Parse a CID string (v0 ``Qm…`` or v1 multibase), accepting an ``/ipfs/`` prefix.

    Raises ``InvalidCidError`` naming the string when it is not a CID.
    """
    candidate = text.strip()
    if candidate.startswith("/ipfs/"):
        candidate = candidate[len("/ipfs/") :].rstrip("/")
    if "/" in candidate:
        raise InvalidCidError(f"{text!r} is a path inside a CID: only a bare CID (a UnixFS file) is accepted")
    try:
        return canonical(CID.decode(candidate))
    except (ValueError, KeyError, TypeError, IndexError):
        raise InvalidCidError(f"{text!r} is not a valid CID") from None


def canonical(cid: CID) -> CID:
    """The CID in kubo's default text form: base58btc for v0, base32 for v1."""
    if cid.version == 1 and cid.base.name != "base32":
        return cid.set(base="base32")
    return cid


def cid_bytes(text: str) -> bytes:
    """The binary form of a CID string; ``InvalidCidError`` if it is not one."""
    return bytes(parse_cid(text))


def cid_text(binary: bytes) -> str:
    """The canonical text of a binary CID (base58btc for v0, base32 for v1)."""
    return str(canonical(CID.decode(binary)))


def block_cid(data: bytes, *, codec: int, version: int) -> bytes:
    """The binary sha2-256 CID of a block; CIDv0 exists only for dag-pb."""
    digest = _SHA2_256_PREFIX + hashlib.sha256(data).digest()
    if version == 0:
        return digest
    return _CIDV1_PREFIX[codec] + digest


def split_cid(binary: bytes) -> tuple[int, bytes]:
    """A binary CID's codec and multihash; ``InvalidCidError`` if it is malformed."""
    if binary[:2] == _SHA2_256_PREFIX and len(binary) == 34:
        return DAG_PB, binary
    prefix = binary[:2]
    for codec, known in _CIDV1_PREFIX.items():
        if prefix == known:
            return codec, binary[2:]
    try:
        version, size, _ = varint.decode_raw(binary)
        codec, codec_size, _ = varint.decode_raw(binary[size:])
    except ValueError:
        raise InvalidCidError(f"malformed binary CID {binary.hex()}") from None
    if version != 1:
        raise InvalidCidError(f"malformed binary CID {binary.hex()}")
    return codec, binary[size + codec_size :]


def block_matches(mh: bytes, data: bytes | memoryview) -> bool:
    """Whether ``data`` hashes to the multihash ``mh`` (sha2-256 fast, others via multiformats)."""
    if mh[:2] == _SHA2_256_PREFIX:
        return hashlib.sha256(data).digest() == mh[2:]
    try:
        return bool(multihash.digest(bytes(data), multihash.from_digest(mh).name) == mh)
    except (KeyError, ValueError):
        return False
