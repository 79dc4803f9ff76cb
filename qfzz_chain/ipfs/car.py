"""CAR v1 (Content Addressable aRchive) encoding and streaming decoding, as kubo's ``dag
export``/``dag import`` use it: a dag-cbor header ``{"roots": [...], "version": 1}``, then
sections of ``varint(len) || CID bytes || block bytes``.

Pure: the reader works on any binary stream one section at a time, so a CAR of any size is read
in constant memory; it checks framing only. Checking each block against its CID is the
importer's job (``verify_section``), so it can report which block is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Iterator, Sequence

import libipld

from qfzz_chain.ipfs.cid import block_matches, cid_text, split_cid
from qfzz_chain.ipfs.dagpb import read_varint, varint
from qfzz_chain.ipfs.errors import CarFormatError

# Larger sections are refused rather than buffered: kubo refuses blocks over 4 MiB too.
MAX_SECTION_BYTES = 8 * 1024 * 1024
_MAX_HEADER_BYTES = 1024 * 1024
_MAX_VARINT_BYTES = 9


@dataclass(frozen=True)
class CarSection:
    """One block of a CAR: its binary CID as written, and its bytes."""

    cid: bytes
    data: bytes


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes((major << 5 | value,))
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes((major << 5 | extra,)) + value.to_bytes(size, "big")
    raise ValueError("CBOR length too large")


def encode_header(roots: Sequence[bytes]) -> bytes:
    """The length-prefixed CAR v1 header ``{"roots": [...], "version": 1}`` (dag-cbor).

    Written directly: dag-cbor's canonical map order (shorter keys first) puts ``roots`` before
    ``version``; each root is tag 42 over the CID bytes with the 0x00 multibase prefix.
    """
    header = bytearray(b"\xa2\x65roots")
    header += _cbor_head(4, len(roots))
    for root in roots:
        header += b"\xd8\x2a" + _cbor_head(2, len(root) + 1) + b"\x00" + root
    header += b"\x67version\x01"
    return varint(len(header)) + bytes(header)


def encode_section(cid: bytes, data: bytes) -> bytes:
    """One length-prefixed CAR section for a binary CID."""
    return varint(len(cid) + len(data)) + cid + data


def _read_exactly(stream: BinaryIO, size: int, what: str) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise CarFormatError(f"truncated CAR: {what} ends after {len(data)} of {size} bytes")
        data += more
    return data


def _read_varint(stream: BinaryIO, what: str) -> int | None:
    """A varint from the stream, or ``None`` at a clean end of stream before its first byte."""
    first = stream.read(1)
    if not first:
        return None
    encoded = bytearray(first)
    while encoded[-1] & 0x80:
        if len(encoded) == _MAX_VARINT_BYTES:
            raise CarFormatError(f"malformed CAR: {what} length is not a valid varint")
        more = stream.read(1)
        if not more:
            raise CarFormatError(f"truncated CAR: {what} length cut off")
        encoded += more
    try:
        return read_varint(bytes(encoded), 0)[0]
    except ValueError as exc:
        raise CarFormatError(f"malformed CAR: {what} length: {exc}") from None


def _split_cid(section: bytes) -> tuple[bytes, bytes]:
    """Split a section into its leading binary CID and the block bytes after it."""
    try:
        if section[:2] == b"\x12\x20":  # a bare sha2-256 multihash is a CIDv0
            cid_length = 34
        else:
            offset = 0
            for field in ("version", "codec", "hash function"):
                value, offset = read_varint(section, offset)
                if field == "version" and value != 1:
                    raise ValueError(f"CID version {value}")
            digest_length, offset = read_varint(section, offset)
            cid_length = offset + digest_length
        if cid_length > len(section):
            raise ValueError("CID runs past the end of its section")
        return section[:cid_length], section[cid_length:]
    except (ValueError, KeyError) as exc:
        raise CarFormatError(f"malformed CAR: a section does not start with a CID ({exc})") from None


def read_header(stream: BinaryIO) -> list[bytes]:
    """Read a CAR v1 header and return its roots (binary CIDs); ``CarFormatError`` if not one."""
    length = _read_varint(stream, "header")
    if length is None:
        raise CarFormatError("not a CAR file: it is empty")
    if not 0 < length <= _MAX_HEADER_BYTES:
        raise CarFormatError(f"not a CAR file: implausible header length {length}")
    raw = _read_exactly(stream, length, "header")
    try:
        header = libipld.decode_dag_cbor(raw)
    except ValueError as exc:
        header = _decode_header_slowly(raw, exc)
    if not isinstance(header, dict) or "version" not in header:
        raise CarFormatError("not a CAR file: header has no version")
    if header["version"] == 2:
        raise CarFormatError("CAR v2 is not supported; export CAR v1 (kubo's default)")
    if header["version"] != 1:
        raise CarFormatError(f"unsupported CAR version {header['version']!r}")
    roots = header.get("roots")
    # libipld gives a CID link as its binary form (bytes), like a byte string: check it parses.
    if not isinstance(roots, list) or not all(isinstance(root, bytes) and _is_cid(root) for root in roots):
        raise CarFormatError("malformed CAR: header roots are not a list of CIDs")
    return list(roots)


def _decode_header_slowly(raw: bytes, first_error: Exception) -> dict:
    """The header through the ``dag_cbor`` package, for what libipld refuses (identity CIDs
    over 64 bytes as roots); roots come back in binary form as from libipld."""
    import dag_cbor
    from dag_cbor.decoding import CBORDecodingError
    from multiformats import CID

    try:
        header = dag_cbor.decode(raw)
    except (CBORDecodingError, ValueError):
        raise CarFormatError(f"not a CAR file: header is not dag-cbor ({first_error})") from None
    if isinstance(header, dict) and isinstance(header.get("roots"), list):
        header = dict(header, roots=[bytes(r) if isinstance(r, CID) else r for r in header["roots"]])
    return header  # type: ignore[return-value]


def _is_cid(binary: bytes) -> bool:
    try:
        cid_text(binary)
        split_cid(binary)
    except Exception:  # InvalidCidError, or a malformed multihash
        return False
    return True


def read_sections(stream: BinaryIO) -> Iterator[CarSection]:
    """The sections after the header, one at a time, until the stream ends."""
    while True:
        length = _read_varint(stream, "section")
        if length is None:
            return
        if not 0 < length <= MAX_SECTION_BYTES:
            raise CarFormatError(f"malformed CAR: section length {length} is out of range")
        cid, data = _split_cid(_read_exactly(stream, length, "section"))
        yield CarSection(cid=cid, data=data)


def verify_section(section: CarSection) -> None:
    """Raise ``CarFormatError`` unless the section's bytes hash to its CID."""
    if not block_matches(split_cid(section.cid)[1], section.data):
        raise CarFormatError(f"CAR block {cid_text(section.cid)} does not match its hash")
