"""CIDs and IPFS paths: parsing user input, computing a block's CID, and the binary form used inside.

Text is parsed and printed through ``libipld`` (Rust; 3 µs to parse a CID, 1 ms to import),
not ``multiformats``, whose import builds its codec tables for ~70 ms of every CLI start and
whose ``CID`` objects cost ~0.4 ms each to build. Inside, the store works on *binary* CIDs
(``bytes``, exactly what dag-pb links and CAR sections hold) and converts at its edges.

Blocks are identified on disk by their multihash alone (as kubo's blockstore does), so the same
bytes reached through a CIDv0 and a CIDv1 are one block.
"""

from __future__ import annotations

import base64
import hashlib
from typing import NamedTuple

import libipld

from qfzz_chain.ipfs.dagpb import read_varint, varint
from qfzz_chain.ipfs.errors import InvalidCidError

DAG_PB = 0x70
RAW = 0x55
DAG_CBOR = 0x71
SHA2_256 = 0x12
IDENTITY = 0x00
_SHA2_256_PREFIX = bytes([SHA2_256, 32])
_CIDV1_PREFIX = {DAG_PB: bytes([1, DAG_PB]), RAW: bytes([1, RAW]), DAG_CBOR: bytes([1, DAG_CBOR])}
CODEC_NAMES = {DAG_PB: "dag-pb", RAW: "raw", DAG_CBOR: "dag-cbor", 0x0129: "dag-json", 0x0200: "json"}


class Cid(NamedTuple):
    """A parsed CID: its binary form, version and codec; ``str()`` is kubo's text form."""

    binary: bytes
    version: int
    codec: int

    def __bytes__(self) -> bytes:
        return self.binary

    def __str__(self) -> str:
        return cid_text(self.binary)


class IpfsPath(NamedTuple):
    """``/ipfs/CID/a/b`` or ``CID/a/b``: a root CID and the names below it."""

    root: Cid
    names: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join((str(self.root), *self.names))


def _binary_of(parsed: dict) -> bytes:
    digest = parsed["hash"]
    multihash = varint(digest["code"]) + varint(digest["size"]) + digest["digest"]
    if parsed["version"] == 0:
        return multihash
    return b"\x01" + varint(parsed["codec"]) + multihash


def parse_root(text: str) -> Cid:
    """Parse a CID string (v0 ``Qm…`` or v1 in any multibase), accepting an ``/ipfs/`` prefix,
    into the store's light ``Cid`` (3 µs; no ``multiformats`` import).

    Raises ``InvalidCidError`` naming the string when it is not a bare CID.
    """
    path = parse_path(text)
    if path.names:
        raise InvalidCidError(f"{text!r} is a path inside a CID: a bare CID is needed here")
    return path.root


def parse_cid(text: str) -> "multiformats.CID":  # type: ignore[name-defined]  # noqa: F821
    """Parse a CID string into a ``multiformats.CID`` in kubo's text form (base58btc v0, base32 v1).

    The public parser, for callers that use ``multiformats``' fields (``raw_digest``,
    ``codec.code``; ``chain/types.py``); ``InvalidCidError`` naming the string when it is not a
    bare CID. ``multiformats`` is imported on first use: ~70 ms that the store's own paths avoid
    (they use ``parse_root``).
    """
    from multiformats import CID

    binary = parse_root(text).binary
    try:
        cid = CID.decode(binary)
    except (ValueError, KeyError, TypeError, IndexError):
        raise InvalidCidError(f"{text!r} is not a valid CID") from None
    return cid.set(base="base32") if cid.version == 1 and cid.base.name != "base32" else cid


def parse_path(text: str) -> IpfsPath:
    """Parse ``CID``, ``CID/a/b``, ``/ipfs/CID/a/b`` (trailing slashes ignored)."""
    candidate = text.strip()
    if candidate.startswith("/ipfs/"):
        candidate = candidate[len("/ipfs/") :]
    parts = [part for part in candidate.split("/")]
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    root_text, names = parts[0], parts[1:]
    if any(name in ("", ".", "..") for name in names):
        raise InvalidCidError(f"{text!r} is not a valid IPFS path")
    try:
        parsed = libipld.decode_cid(root_text)
        binary = _binary_of(parsed)
        version, codec = parsed["version"], parsed["codec"]
    except (ValueError, TypeError):
        # libipld refuses multihashes over 64 bytes (identity CIDs carrying a block inline):
        # base32 CIDv1 text, kubo's form for those, is decoded here.
        binary = _decode_base32_cid(root_text)
        if binary is None:
            raise InvalidCidError(f"{text!r} is not a valid CID") from None
        version, codec = 1, split_cid(binary)[0]
    return IpfsPath(root=Cid(binary, version, codec), names=tuple(names))


def _decode_base32_cid(text: str) -> bytes | None:
    if len(text) < 2 or text[0] not in "bB":
        return None
    body = text[1:].upper()
    try:
        binary = base64.b32decode(body + "=" * (-len(body) % 8))
        version, offset = read_varint(binary, 0)
        _codec, offset = read_varint(binary, offset)
        multihash_digest(binary[offset:])
    except ValueError:
        return None
    return binary if version == 1 else None


def cid_bytes(text: str) -> bytes:
    """The binary form of a CID string; ``InvalidCidError`` if it is not one."""
    return parse_root(text).binary


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def cid_text(binary: bytes) -> str:
    """The canonical text of a binary CID (base58btc for v0, base32 for v1); ~3 µs."""
    if len(binary) == 34 and binary[:2] == _SHA2_256_PREFIX:
        number = int.from_bytes(binary, "big")
        digits = []
        while number:
            number, digit = divmod(number, 58)
            digits.append(_B58[digit])
        return "".join(reversed(digits))
    try:
        _codec, multihash = split_cid(binary)
        multihash_digest(multihash)
    except (ValueError, InvalidCidError):
        raise InvalidCidError(f"malformed binary CID {binary.hex()}") from None
    return "b" + base64.b32encode(binary).decode("ascii").rstrip("=").lower()


def to_v1(binary: bytes) -> bytes:
    """The CIDv1 of a binary CID (a CIDv0 becomes dag-pb CIDv1; v1 is returned as is)."""
    if binary[:1] == b"\x01":
        return binary
    return _CIDV1_PREFIX[DAG_PB] + binary


def block_cid(data: bytes | memoryview, *, codec: int, version: int) -> bytes:
    """The binary sha2-256 CID of a block; CIDv0 exists only for dag-pb."""
    digest = _SHA2_256_PREFIX + hashlib.sha256(data).digest()
    if version == 0:
        if codec != DAG_PB:
            raise ValueError("CIDv0 is only defined for dag-pb")
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
        version, size = read_varint(binary, 0)
        codec, offset = read_varint(binary, size)
    except ValueError:
        raise InvalidCidError(f"malformed binary CID {binary.hex()}") from None
    if version != 1:
        raise InvalidCidError(f"malformed binary CID {binary.hex()}")
    return codec, binary[offset:]


def multihash_digest(mh: bytes) -> tuple[int, bytes]:
    """A multihash's function code and digest; ``ValueError`` if its length field lies."""
    code, offset = read_varint(mh, 0)
    size, offset = read_varint(mh, offset)
    digest = mh[offset:]
    if len(digest) != size:
        raise ValueError("multihash length does not match its digest")
    return code, digest


_HASHERS = {
    0x12: "sha256",
    0x13: "sha512",
    0x16: "sha3_256",
    0x14: "sha3_512",
    0x17: "sha3_224",
    0x15: "sha3_384",
    0xB220: "blake2b_256",
}


def block_matches(mh: bytes, data: bytes | memoryview) -> bool:
    """Whether ``data`` hashes to the multihash ``mh`` (sha2-256 fast; sha2-512, sha3, blake2b-256)."""
    if mh[:2] == _SHA2_256_PREFIX:
        return hashlib.sha256(data).digest() == mh[2:]
    try:
        code, digest = multihash_digest(mh)
    except ValueError:
        return False
    if code == IDENTITY:
        return bytes(data) == digest
    name = _HASHERS.get(code)
    if name is None:
        return False
    if name == "blake2b_256":
        return hashlib.blake2b(data, digest_size=32).digest() == digest
    return hashlib.new(name, data).digest() == digest


def hash_supported(mh: bytes) -> bool:
    """Whether ``block_matches`` can check a block against this multihash at all."""
    try:
        code, _digest = multihash_digest(mh)
    except ValueError:
        return False
    return code == IDENTITY or code in _HASHERS
