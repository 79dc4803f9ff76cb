"""dag-pb and UnixFS encoding, written against the two schemas directly (no protobuf runtime).

Both schemas are tiny and fixed (dag-pb's ``PBNode``/``PBLink``, UnixFS's ``Data``), so the wire
format is written here by hand, as js-dag-pb and go-codec-dagpb do. Importing ``protobuf`` and
compiling the schemas cost ~60 ms of every CLI start (more than hashing a 256 KiB block 60
times); the tests check every encoder here against protobuf's own serialisation of the same
proto2 schema (``tests/ipfs/test_ipfs_dagpb.py``).

Canonical dag-pb (the dag-pb spec, and what kubo writes): ``Links`` (field 2) before ``Data``
(field 1), each link's ``Hash``, ``Name``, ``Tsize`` in that order, an explicitly set empty
``Name`` kept on the wire (kubo writes ``12 00`` in every file link) and UnixFS ``blocksizes``
unpacked (proto2). Decoding accepts any field order and packed ``blocksizes`` too, and refuses
unknown fields and truncated input with ``ValueError``.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

UNIXFS_RAW = 0
UNIXFS_DIRECTORY = 1
UNIXFS_FILE = 2
UNIXFS_METADATA = 3
UNIXFS_SYMLINK = 4
UNIXFS_HAMT_SHARD = 5
UNIXFS_TYPES = ("Raw", "Directory", "File", "Metadata", "Symlink", "HAMTShard")

_MAX_VARINT = (1 << 64) - 1


def varint(value: int) -> bytes:
    """Unsigned LEB128, as protobuf and multiformats write it."""
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(data: bytes | memoryview, offset: int) -> tuple[int, int]:
    """The unsigned varint at ``offset`` and the offset after it; ``ValueError`` if malformed."""
    value = shift = 0
    while True:
        if offset >= len(data):
            raise ValueError("truncated varint")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if value > _MAX_VARINT:
                raise ValueError("varint overflows 64 bits")
            return value, offset
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def _bytes_field(tag: int, value: bytes) -> bytes:
    return bytes((tag,)) + varint(len(value)) + value


def _fields(block: bytes | memoryview) -> list[tuple[int, int, object]]:
    """(field number, wire type, value) of each field: an int for varints, bytes for length-delimited."""
    out: list[tuple[int, int, object]] = []
    offset = 0
    while offset < len(block):
        key, offset = read_varint(block, offset)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, offset = read_varint(block, offset)
            out.append((number, wire, value))
        elif wire == 2:
            size, offset = read_varint(block, offset)
            if offset + size > len(block):
                raise ValueError("length-delimited field runs past the end")
            out.append((number, wire, bytes(block[offset : offset + size])))
            offset += size
        else:
            raise ValueError(f"unexpected wire type {wire} for field {number}")
    return out


class Link(NamedTuple):
    """A dag-pb link: the child's binary CID and the cumulative size of the child's DAG."""

    cid: bytes
    tsize: int
    name: str = ""


class Node(NamedTuple):
    """A decoded dag-pb node: its links and its opaque ``Data`` (``None`` when absent)."""

    links: tuple[Link, ...]
    data: bytes | None


class UnixfsNode(NamedTuple):
    """The fields of a UnixFS ``Data`` message that reading needs."""

    type: int
    data: bytes
    filesize: int | None
    blocksizes: tuple[int, ...]
    hash_type: int | None = None
    fanout: int | None = None


def encode_link(link: Link) -> bytes:
    """One ``PBLink`` message (Hash, Name, Tsize), the name always written."""
    body = _bytes_field(0x0A, link.cid) + _bytes_field(0x12, link.name.encode()) + b"\x18" + varint(link.tsize)
    return _bytes_field(0x12, body)


def encode_node(links: Sequence[Link], data: bytes | None) -> bytes:
    """Serialise a dag-pb node in canonical form (links first, then data)."""
    parts = [encode_link(link) for link in links]
    if data is not None:
        parts.append(_bytes_field(0x0A, data))
    return b"".join(parts)


def decode_node(block: bytes | memoryview) -> Node:
    """Parse a dag-pb block; raises ``ValueError`` if it is not one."""
    links: list[Link] = []
    data: bytes | None = None
    for number, wire, value in _fields(block):
        if number == 2 and wire == 2:
            links.append(_decode_link(value))  # type: ignore[arg-type]
        elif number == 1 and wire == 2:
            data = value  # type: ignore[assignment]
        else:
            raise ValueError(f"not a dag-pb node: unexpected field {number}")
    return Node(links=tuple(links), data=data)


def _decode_link(raw: bytes) -> Link:
    cid, name, tsize = None, "", 0
    for number, wire, value in _fields(raw):
        if number == 1 and wire == 2:
            cid = value
        elif number == 2 and wire == 2:
            try:
                name = value.decode()  # type: ignore[union-attr]
            except UnicodeDecodeError:
                raise ValueError("link name is not UTF-8") from None
        elif number == 3 and wire == 0:
            tsize = value  # type: ignore[assignment]
        else:
            raise ValueError(f"not a dag-pb link: unexpected field {number}")
    if cid is None:
        raise ValueError("dag-pb link without a Hash")
    return Link(cid=cid, tsize=tsize, name=name)  # type: ignore[arg-type]


def encode_unixfs(
    type_: int,
    *,
    data: bytes | None = None,
    filesize: int | None = None,
    blocksizes: Sequence[int] = (),
    hash_type: int | None = None,
    fanout: int | None = None,
) -> bytes:
    """A UnixFS ``Data`` message, fields in number order as protobuf serialises them."""
    out = bytearray(b"\x08" + varint(type_))
    if data is not None:
        out += _bytes_field(0x12, data)
    if filesize is not None:
        out += b"\x18" + varint(filesize)
    for size in blocksizes:
        out += b"\x20" + varint(size)
    if hash_type is not None:
        out += b"\x28" + varint(hash_type)
    if fanout is not None:
        out += b"\x30" + varint(fanout)
    return bytes(out)


def decode_unixfs(data: bytes | None) -> UnixfsNode:
    """Parse a node's UnixFS ``Data``; ``ValueError`` if it is absent or malformed."""
    if data is None:
        raise ValueError("dag-pb node carries no UnixFS data")
    type_: int | None = None
    payload, filesize, hash_type, fanout = b"", None, None, None
    blocksizes: list[int] = []
    for number, wire, value in _fields(data):
        if number == 1 and wire == 0:
            type_ = value  # type: ignore[assignment]
        elif number == 2 and wire == 2:
            payload = value  # type: ignore[assignment]
        elif number == 3 and wire == 0:
            filesize = value
        elif number == 4 and wire == 0:
            blocksizes.append(value)  # type: ignore[arg-type]
        elif number == 4 and wire == 2:  # packed, as some encoders write it
            offset, raw = 0, value
            while offset < len(raw):  # type: ignore[arg-type]
                size, offset = read_varint(raw, offset)  # type: ignore[arg-type]
                blocksizes.append(size)
        elif number == 5 and wire == 0:
            hash_type = value
        elif number == 6 and wire == 0:
            fanout = value
        elif number in (7, 8):
            continue  # mode and mtime: metadata this store keeps but does not apply
        else:
            raise ValueError(f"malformed UnixFS data: unexpected field {number}")
    if type_ is None:
        raise ValueError("malformed UnixFS data: no Type")
    if type_ >= len(UNIXFS_TYPES):
        raise ValueError(f"malformed UnixFS data: unknown Type {type_}")
    return UnixfsNode(
        type=type_,
        data=payload,
        filesize=filesize,  # type: ignore[arg-type]
        blocksizes=tuple(blocksizes),
        hash_type=hash_type,  # type: ignore[arg-type]
        fanout=fanout,  # type: ignore[arg-type]
    )


_LEAF_TYPE = b"\x08\x02"


def encode_file_leaf(chunk: bytes) -> bytes:
    """A UnixFS file leaf holding ``chunk`` (kubo's leaf when raw leaves are off).

    kubo leaves ``Data`` out only for the empty file, whose chunk is nil in Go. Built with one
    copy of the chunk (one ``join``): the leaf is most of the bytes an add writes.
    """
    size = len(chunk)
    head = _LEAF_TYPE + (b"\x12" + varint(size) if chunk else b"")
    tail = b"\x18" + varint(size)
    return b"".join((b"\x0a", varint(len(head) + size + len(tail)), head, chunk, tail))


def encode_file_branch(links: Sequence[Link], blocksizes: Sequence[int]) -> bytes:
    """An inner UnixFS file node: one link per child and each child's file-byte count."""
    return encode_node(links, encode_unixfs(UNIXFS_FILE, filesize=sum(blocksizes), blocksizes=blocksizes))
